"""Scoped reads for the fairness pages: a user sees only their own organisation's tenders and bids."""

from dataclasses import dataclass
from datetime import datetime

from django.db.models import BooleanField, ExpressionWrapper, Q
from django.db.models.functions import Now

from bidding.models import Bid, Invitation, Tender
from bidding.selectors import database_now
from core.errors import NotFoundError

from .models import BedHold, Challenge, ClarificationQuestion, MarketSettings, Regime, Standstill


def broker_tender_get(*, actor, pk: int) -> Tender:
    tender = (
        Tender.objects.select_related("request__commissioner", "request__lot")
        .filter(pk=pk, request__commissioner_id=actor.organisation_id)
        .first()
    )
    if tender is None:
        raise NotFoundError("No such tender.")
    return tender


def provider_invited_tender_get(*, actor, pk: int) -> Tender:
    invited = Invitation.objects.filter(tender_id=pk, care_home__provider_id=actor.organisation_id).exists()
    if not invited:
        raise NotFoundError("No such tender.")
    return Tender.objects.select_related("request__commissioner", "request__lot").get(pk=pk)


def provider_bid_get(*, actor, pk: int) -> Bid:
    bid = (
        Bid.objects.select_related("care_home", "tender__request__commissioner", "tender__request__lot")
        .filter(pk=pk, provider_id=actor.organisation_id)
        .first()
    )
    if bid is None:
        raise NotFoundError("No such bid.")
    return bid


@dataclass(frozen=True)
class ChallengeEligibility:
    """Whether a bid may challenge the award now; when not, why (a message for people and a code)."""

    allowed: bool
    standstill: Standstill | None = None
    code: str = ""
    message: str = ""


def bid_challenge_eligibility(*, bid: Bid, lock: bool = False, at: datetime | None = None) -> ChallengeEligibility:
    """The one rule for "may this bid challenge the award", for the page, the API and `challenge_raise`.

    A bid may challenge during the tender's latest standstill, while it runs (or is already
    challenged by another bid) and before it ends by the database clock, if the bid is not the one
    awarded, is still submitted and was ranked, and has not challenged already. `lock` locks the
    standstill row (inside the writing transaction); `at` is a database time already read.
    """
    standstills = Standstill.objects.filter(tender_id=bid.tender_id).order_by("-starts_at")
    standstill = (standstills.select_for_update() if lock else standstills).first()
    if standstill is None or standstill.bid_id == bid.pk:
        return ChallengeEligibility(
            False, standstill, "no_standstill", "There is no standstill in which this bid can challenge the award."
        )
    running = standstill.status in (Standstill.Status.RUNNING, Standstill.Status.CHALLENGED)
    if not running or standstill.ends_at <= (at or database_now()):
        return ChallengeEligibility(False, standstill, "standstill_over", "The standstill period has ended.")
    if bid.status != Bid.Status.SUBMITTED or bid.rank is None:
        return ChallengeEligibility(False, standstill, "not_ranked", "Only a ranked bid can challenge the award.")
    if Challenge.objects.filter(standstill=standstill, bid=bid).exists():
        return ChallengeEligibility(
            False, standstill, "already_challenged", "This bid has already challenged the award."
        )
    return ChallengeEligibility(True, standstill)


def published_clarifications(*, tender: Tender):
    """Answered questions as every invited provider sees them: without who asked."""
    return ClarificationQuestion.objects.filter(tender=tender, answered_at__isnull=False).only(
        "question", "answer", "answered_at", "extended_closes_at", "tender_id"
    )


TERMS = {
    Regime.PCR_2015_DPS: {
        "arrangement": "dynamic purchasing system",
        "arrangement_short": "DPS",
        "admission": "admission to the dynamic purchasing system",
        "award_notice": "contract award notice",
        "legal_basis": "Public Contracts Regulations 2015, regulation 34",
        "procurement_method_details": "Call-off from the council's Dynamic Purchasing System (DPS)",
    },
    Regime.PA_2023_DYNAMIC_MARKET: {
        "arrangement": "dynamic market",
        "arrangement_short": "dynamic market",
        "admission": "membership of the dynamic market",
        "award_notice": "contract award notice",
        "legal_basis": "Procurement Act 2023, sections 34 to 40",
        "procurement_method_details": "Call-off from the council's dynamic market (Procurement Act 2023)",
    },
}


def _terms(regime: str) -> dict:
    return {"regime": regime, "regime_label": Regime(regime).label, **TERMS[regime]}


def regime_terms(commissioner) -> dict:
    """The names a body's pages, notices and open-data output use for its arrangement."""
    regime = MarketSettings.objects.filter(commissioner=commissioner).values_list("regime", flat=True).first()
    return _terms(regime or Regime.PCR_2015_DPS)


def regime_terms_for(commissioner) -> dict:
    """As `regime_terms`, from settings already loaded with the body (select_related), without a query."""
    settings = getattr(commissioner, "market_settings", None)
    return _terms(settings.regime if settings else Regime.PCR_2015_DPS)


def bed_hold_overdue_q() -> Q:
    """A hold still awaiting the home's confirmation at or after its confirm-by time, by the
    database clock: the same moment the service lets the broker move on to the next bid."""
    return Q(status=BedHold.Status.AWAITING, confirm_by__lte=Now())


def bed_hold_for_bid(*, bid: Bid) -> BedHold | None:
    """The bid's live or lapsed bed hold, with `expired` set by the database clock: a hold still
    awaiting the home's confirmation after its confirm-by time has expired, whether or not the
    broker has moved on yet, so no page shows it as awaiting past its deadline."""
    return (
        BedHold.objects.filter(bid=bid)
        .annotate(expired=ExpressionWrapper(bed_hold_overdue_q(), output_field=BooleanField()))
        .first()
    )
