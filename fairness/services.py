"""Fair treatment around a tender: every rule here is called by pages, the API, tasks and the award."""

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from statistics import median

from django.db import transaction
from django.db.models import Q
from django.db.models.functions import Now
from django.urls import reverse

from bidding.hooks import AwardTerms
from bidding.models import Award, Bid, Invitation, Tender
from bidding.services import (
    database_now,
    fee_split,
    local_time_text,
    schedule_tender_close,
    tender_award,
    tender_lock_open,
)
from core.audit import audit_record
from core.errors import ApplicationError, ConflictError, NotFoundError
from core.notifications import notify_organisation
from organisations.models import Organisation, Role
from organisations.permissions import (
    is_broker,
    is_provider_user,
    require,
    require_council_member,
    require_member_of,
)
from placements.models import Placement, PlacementRequest
from placements.services import placement_cancel_lapsed

from .models import (
    AbnormalPriceConfirmation,
    BedHold,
    Challenge,
    ClarificationQuestion,
    LapsedAward,
    MarketSettings,
    ShortlistLink,
    Standstill,
    StandstillRule,
)
from .selectors import bid_challenge_eligibility

MIN_FEES_FOR_MEDIAN = 3


def market_settings_for(commissioner) -> MarketSettings:
    """The body's settings, or unsaved defaults when it has not chosen any."""
    return MarketSettings.objects.filter(commissioner=commissioner).first() or MarketSettings(commissioner=commissioner)


def _require_broker_of(actor, tender: Tender) -> None:
    require_member_of(actor, tender.request.commissioner_id, not_found="No such tender.")
    require(is_broker(actor), "Only brokers can do this.")


def _db_now() -> datetime:
    return database_now()


# --- The person's choice -------------------------------------------------------------------


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@transaction.atomic
def shortlist_share(
    *, actor, tender: Tender, bids: list[Bid], recipient: str, valid_hours: int = 72
) -> tuple[ShortlistLink, str]:
    """Share ranked bids with the person: only after evaluation, so no sealed price can leak.

    Returns the link and its token; the token is shown once and only its hash is stored.
    """
    _require_broker_of(actor, tender)
    tender = Tender.objects.select_for_update().select_related("request__commissioner").get(pk=tender.pk)
    if tender.status != Tender.Status.EVALUATED:
        raise ConflictError("A shortlist can be shared once bids are ranked and before the award.", code="state")
    if not recipient.strip():
        raise ApplicationError("Say who the link is for.", fields={"recipient": "Enter who the link is for."})
    if not 1 <= valid_hours <= 24 * 14:
        message = "A link can last between 1 hour and 14 days."
        raise ApplicationError(message, fields={"valid_hours": message})
    ids = {bid.pk for bid in bids}
    chosen = list(
        Bid.objects.filter(pk__in=ids, tender=tender, status=Bid.Status.SUBMITTED, rank__isnull=False).order_by("rank")
    )
    if not chosen or len(chosen) != len(ids):
        message = "Choose one or more of this tender's ranked bids."
        raise ApplicationError(message, code="invalid_bid", fields={"bids": message})
    token = secrets.token_urlsafe(32)
    link = ShortlistLink.objects.create(
        tender=tender,
        token_hash=token_hash(token),
        recipient=recipient.strip(),
        expires_at=_db_now() + timedelta(hours=valid_hours),
        created_by=actor,
    )
    link.bids.set(chosen)
    audit_record(
        actor=actor,
        verb="fairness.shortlist.shared",
        target=tender.request,
        organisation=tender.request.commissioner,
        detail={"tender": tender.pk, "link": link.pk, "bids": [b.pk for b in chosen], "recipient": link.recipient},
    )
    return link, token


def shortlist_link_open(*, token: str) -> ShortlistLink:
    """The link a token opens: 404 when unknown, ConflictError when expired or revoked."""
    link = (
        ShortlistLink.objects.select_related("tender__request__commissioner")
        .filter(token_hash=token_hash(token))
        .first()
    )
    if link is None:
        raise NotFoundError("No such link.")
    if link.revoked_at is not None or link.expires_at <= _db_now():
        raise ConflictError("This link has expired. Ask your broker for a new one.", code="link_expired")
    return link


@transaction.atomic
def shortlist_choose(
    *, token: str, bid_id: int, chosen_by_name: str, top_up_payer: str = "", top_up_consent: bool = False
) -> ShortlistLink:
    """The person (or their representative) records the home they choose and any top-up consent."""
    link = shortlist_link_open(token=token)
    link = ShortlistLink.objects.select_for_update().get(pk=link.pk)
    tender = Tender.objects.select_for_update().select_related("request__commissioner").get(pk=link.tender_id)
    if tender.status != Tender.Status.EVALUATED:
        raise ConflictError("A decision has already been made on this placement.", code="decided")
    bid = link.bids.filter(pk=bid_id).select_related("care_home").first()
    errors = {}
    if bid is None:
        errors["bid"] = "Choose one of the homes on the list."
    if not chosen_by_name.strip():
        errors["chosen_by_name"] = "Enter your name."
    if bid is not None:
        split = fee_split(weekly_fee=bid.weekly_fee, max_weekly_rate=tender.max_weekly_rate)
        if split.top_up:
            if not top_up_payer.strip():
                errors["top_up_payer"] = f"This home costs £{split.top_up:.2f} a week more: enter who will pay it."
            if not top_up_consent:
                errors["top_up_consent"] = "The person paying the top-up must agree to pay it."
        else:
            top_up_payer, top_up_consent = "", False
    if errors:
        raise ApplicationError("Check your choice.", fields=errors)
    link.chosen_bid = bid
    link.chosen_at = _db_now()
    link.chosen_by_name = chosen_by_name.strip()
    link.top_up_payer = top_up_payer.strip()
    link.top_up_consent = top_up_consent
    link.save(update_fields=["chosen_bid", "chosen_at", "chosen_by_name", "top_up_payer", "top_up_consent"])
    audit_record(
        actor=None,
        verb="fairness.choice.recorded",
        target=tender.request,
        organisation=tender.request.commissioner,
        detail={
            "tender": tender.pk,
            "link": link.pk,
            "bid": bid.pk,
            "care_home_name": bid.care_home.name,
            "chosen_by": link.chosen_by_name,
            "top_up_payer": link.top_up_payer,
            "top_up_consent": link.top_up_consent,
        },
    )
    notify_organisation(
        organisation=tender.request.commissioner,
        roles=[Role.BROKER],
        verb="fairness.choice.recorded",
        subject=f"Choice recorded for {tender.request.case_reference}: {bid.care_home.name}",
        template="emails/fairness_choice.txt",
        context={"tender": tender, "bid": bid, "shortlist": link},
        dedupe_key=f"shortlist-{link.pk}-choice-{link.chosen_at.isoformat()}",
        link=reverse("fairness:tender_fairness", args=[tender.pk]),
    )
    return link


def person_choice_for(*, tender: Tender) -> ShortlistLink | None:
    """The most recent choice the person made on any link of this tender."""
    return (
        ShortlistLink.objects.filter(tender=tender, chosen_bid__isnull=False)
        .select_related("chosen_bid")
        .order_by("-chosen_at", "-pk")
        .first()
    )


# --- Abnormally low prices -----------------------------------------------------------------


def median_awarded_fee(*, commissioner, lot, lookback_days: int) -> Decimal | None:
    """The median weekly fee of the body's recent tender awards on the lot, or None with too few."""
    fees = list(
        Placement.objects.live()
        .filter(
            commissioner=commissioner,
            lot=lot,
            source=Placement.Source.TENDER,
            sourced_at__gte=_db_now() - timedelta(days=lookback_days),
        )
        .values_list("weekly_fee", flat=True)
    )
    if len(fees) < MIN_FEES_FOR_MEDIAN:
        return None
    return Decimal(median(fees)).quantize(Decimal("0.01"))


@dataclass(frozen=True)
class AbnormalPrices:
    median: Decimal | None
    threshold: Decimal | None
    bid_ids: frozenset


def abnormal_prices(*, tender: Tender) -> AbnormalPrices:
    """Which of the tender's bids are far below the lot's recent awarded fees."""
    request = tender.request
    market = market_settings_for(request.commissioner)
    median = median_awarded_fee(
        commissioner=request.commissioner, lot=request.lot, lookback_days=market.abnormal_price_lookback_days
    )
    if median is None:
        return AbnormalPrices(None, None, frozenset())
    threshold = (median * (100 - market.abnormal_price_percent) / 100).quantize(Decimal("0.01"))
    ids = tender.bids.filter(status=Bid.Status.SUBMITTED, weekly_fee__lt=threshold).values_list("pk", flat=True)
    return AbnormalPrices(median, threshold, frozenset(ids))


@transaction.atomic
def abnormal_price_confirm(*, actor, bid: Bid, provider_statement: str) -> AbnormalPriceConfirmation:
    """Record that the provider confirmed it can deliver at its abnormally low fee."""
    tender = Tender.objects.select_related("request__commissioner", "request__lot").get(pk=bid.tender_id)
    _require_broker_of(actor, tender)
    if tender.status not in (Tender.Status.CLOSED, Tender.Status.EVALUATED):
        raise ConflictError("Deliverability is confirmed after the close and before the award.", code="state")
    flags = abnormal_prices(tender=tender)
    if bid.pk not in flags.bid_ids:
        raise ConflictError("This bid is not flagged as abnormally low.", code="not_abnormal")
    if not provider_statement.strip():
        message = "Record what the provider said about delivering the care at this fee."
        raise ApplicationError(message, fields={"provider_statement": message})
    confirmation, created = AbnormalPriceConfirmation.objects.get_or_create(
        bid=bid,
        defaults={
            "median_awarded_fee": flags.median,
            "provider_statement": provider_statement.strip(),
            "recorded_by": actor,
        },
    )
    if not created:
        raise ConflictError("Deliverability has already been recorded for this bid.", code="already_recorded")
    audit_record(
        actor=actor,
        verb="fairness.abnormal_price.confirmed",
        target=tender.request,
        organisation=tender.request.commissioner,
        reason=confirmation.provider_statement,
        detail={"tender": tender.pk, "bid": bid.pk, "median_awarded_fee": f"{flags.median:.2f}"},
    )
    return confirmation


# --- Hooks called by the award -------------------------------------------------------------


def award_precheck(*, tender: Tender, bid: Bid, reason: str, top_up_payer: str) -> AwardTerms:
    """Refuse an abnormally low bid without recorded deliverability; carry the person's choice."""
    if (
        bid.pk in abnormal_prices(tender=tender).bid_ids
        and not AbnormalPriceConfirmation.objects.filter(bid=bid).exists()
    ):
        message = (
            "This fee is abnormally low against the lot's recent awards: record that the provider confirmed "
            "it can deliver at this price before awarding."
        )
        raise ApplicationError(message, code="abnormal_price_unconfirmed", fields={"bid": message})
    choice = person_choice_for(tender=tender)
    if choice is None or choice.chosen_bid_id != bid.pk:
        return AwardTerms(reason, top_up_payer, False, False)
    return AwardTerms(
        reason=reason or f"The person's choice, recorded by {choice.chosen_by_name}.",
        top_up_payer=top_up_payer or choice.top_up_payer,
        chosen_by_person=True,
        top_up_consent=choice.top_up_consent,
    )


def award_made(*, award: Award, placement: Placement, standstill_waiver_reason: str = "") -> None:
    """After the award: the home is asked to hold the bed, and any standstill starts."""
    tender = award.tender
    request = tender.request
    now = award.awarded_at
    market = market_settings_for(request.commissioner)
    BedHold.objects.create(
        tender=tender,
        bid=award.bid,
        held_until=placement.start_date,
        confirm_by=now + timedelta(hours=market.bed_hold_confirm_hours),
    )
    notify_organisation(
        organisation=award.bid.provider,
        verb="fairness.bed_hold.requested",
        subject=f"Confirm the bed at {award.bid.care_home.name} is held until {placement.start_date:%-d %B %Y}",
        template="emails/fairness_bed_hold.txt",
        context={"award": award, "placement": placement},
        dedupe_key=f"bed-hold-{award.bid_id}",
        link=reverse("fairness:provider_award", args=[award.bid_id]),
    )
    rule = StandstillRule.objects.filter(commissioner=request.commissioner, lot=request.lot).first()
    if rule is None:
        return
    standstill = Standstill(tender=tender, bid=award.bid, starts_at=now, ends_at=now + timedelta(days=rule.days))
    if standstill_waiver_reason.strip():
        standstill.status = Standstill.Status.WAIVED
        standstill.waiver_reason = standstill_waiver_reason.strip()
        standstill.ends_at = now
        standstill.confirmed_at = now
    standstill.save()
    audit_record(
        actor=award.awarded_by,
        verb="fairness.standstill.waived" if standstill.waiver_reason else "fairness.standstill.started",
        target=request,
        organisation=request.commissioner,
        reason=standstill.waiver_reason,
        detail={"tender": tender.pk, "bid": award.bid_id, "ends_at": standstill.ends_at.isoformat()},
    )
    if standstill.status == Standstill.Status.RUNNING:
        for bid in tender.bids.filter(status=Bid.Status.SUBMITTED).exclude(pk=award.bid_id).select_related("provider"):
            notify_organisation(
                organisation=bid.provider,
                verb="fairness.standstill.started",
                subject=f"Standstill until {standstill.ends_at:%-d %B %Y}: see the scores and challenge",
                template="emails/fairness_standstill.txt",
                context={"standstill": standstill, "bid": bid},
                dedupe_key=f"standstill-{standstill.pk}-{bid.pk}",
                link=reverse("fairness:provider_award", args=[bid.pk]),
            )


# --- Bed hold and moving to the next bid ---------------------------------------------------


@transaction.atomic
def bed_hold_confirm(*, actor, hold: BedHold) -> BedHold:
    require(is_provider_user(actor), "Only the care home's provider can confirm a bed hold.")
    hold = BedHold.objects.select_for_update().select_related("bid__care_home", "tender__request").get(pk=hold.pk)
    if hold.bid.provider_id != actor.organisation_id:
        raise NotFoundError("No such bed hold.")
    if hold.status != BedHold.Status.AWAITING:
        raise ConflictError(f"This bed hold is {hold.get_status_display().lower()}.", code="state")
    hold.status = BedHold.Status.HELD
    hold.confirmed_at = _db_now()
    hold.confirmed_by = actor
    hold.save(update_fields=["status", "confirmed_at", "confirmed_by"])
    audit_record(
        actor=actor,
        verb="fairness.bed_hold.confirmed",
        target=hold.tender.request,
        organisation=hold.tender.request.commissioner,
        detail={"tender": hold.tender_id, "bid": hold.bid_id, "held_until": hold.held_until.isoformat()},
    )
    return hold


class MoveOnCause:
    HOLD_NOT_CONFIRMED = "hold_not_confirmed"
    MOVE_IN_FAILED = "move_in_failed"
    AWARD_SET_ASIDE = "award_set_aside"
    CHOICES = [
        (HOLD_NOT_CONFIRMED, "The home did not confirm the bed hold in time"),
        (MOVE_IN_FAILED, "The move-in did not happen"),
        (AWARD_SET_ASIDE, "The award was set aside after a challenge"),
    ]


def _check_may_move_on(*, cause: str, hold: BedHold, standstill: Standstill | None, placement, now) -> None:
    if cause == MoveOnCause.HOLD_NOT_CONFIRMED:
        if hold.status != BedHold.Status.AWAITING or hold.confirm_by > now:
            raise ConflictError(
                "The home has confirmed the bed hold or still has time to confirm it.", code="hold_not_lapsed"
            )
    elif cause == MoveOnCause.MOVE_IN_FAILED:
        if placement.start_date > now.date():
            raise ConflictError("The move-in date has not come yet.", code="move_in_not_due")
    elif cause == MoveOnCause.AWARD_SET_ASIDE:
        if standstill is None or standstill.status != Standstill.Status.SET_ASIDE:
            raise ConflictError("The award has not been set aside.", code="not_set_aside")
    else:
        message = "Choose why you are moving to the next bid."
        raise ApplicationError(message, fields={"cause": message})


def next_ranked_bid(*, tender: Tender) -> Bid | None:
    return (
        tender.bids.filter(status=Bid.Status.SUBMITTED, rank__isnull=False, lapsed_award__isnull=True)
        .exclude(award__isnull=False)
        .select_related("care_home")
        .order_by("rank")
        .first()
    )


@transaction.atomic
def award_move_to_next_bid(*, actor, tender: Tender, cause: str, reason: str, top_up_payer: str = "") -> Award:
    """Lapse the current award and award the next ranked bid, without tendering again."""
    _require_broker_of(actor, tender)
    tender = (
        Tender.objects.select_for_update().select_related("request__commissioner", "request__lot").get(pk=tender.pk)
    )
    award = Award.objects.filter(tender=tender).select_related("bid__care_home").first()
    if tender.status != Tender.Status.AWARDED or award is None:
        raise ConflictError("This tender has no award to move on from.", code="not_awarded")
    reason = reason.strip()
    if not reason:
        raise ApplicationError("Give the reason for moving on.", fields={"reason": "Enter a reason."})
    request = PlacementRequest.objects.select_for_update().get(pk=tender.request_id)
    placement = Placement.objects.select_for_update().get(request=request)
    hold = BedHold.objects.select_for_update().get(bid=award.bid)
    standstill = Standstill.objects.select_for_update().filter(bid=award.bid).first()
    now = _db_now()
    _check_may_move_on(cause=cause, hold=hold, standstill=standstill, placement=placement, now=now)
    following = next_ranked_bid(tender=tender)
    if following is None:
        raise ConflictError("There is no further ranked bid: tender the request again.", code="no_next_bid")
    lapsed = LapsedAward.objects.create(
        tender=tender,
        bid=award.bid,
        awarded_by=award.awarded_by,
        awarded_at=award.awarded_at,
        weekly_fee=award.bid.weekly_fee,
        reason=award.reason,
        lapsed_by=actor,
        lapse_reason=reason,
    )
    lapsed_detail = {
        "tender": tender.pk,
        "cause": cause,
        "lapsed_bid": award.bid_id,
        "lapsed_care_home_name": award.bid.care_home.name,
        "lapsed_placement": placement.pk,
        "next_bid": following.pk,
        "next_care_home_name": following.care_home.name,
    }
    # The lapsed placement never began: it is kept, cancelled, and lets go of the request.
    placement = placement_cancel_lapsed(actor=actor, placement=placement, reason=reason)
    lapsed.placement = placement
    lapsed.save(update_fields=["placement"])
    award.delete()
    hold.status = BedHold.Status.LAPSED
    hold.lapsed_at = now
    hold.lapse_reason = reason
    hold.save(update_fields=["status", "lapsed_at", "lapse_reason"])
    if standstill is not None and standstill.status != Standstill.Status.SET_ASIDE:
        standstill.status = Standstill.Status.SET_ASIDE
        standstill.save(update_fields=["status"])
    Tender.objects.filter(pk=tender.pk).update(status=Tender.Status.EVALUATED)
    request.status = PlacementRequest.Status.TENDERING
    request.sourced_at = None
    request.save(update_fields=["status", "sourced_at", "updated_at"])
    audit_record(
        actor=actor,
        verb="fairness.award.lapsed",
        target=request,
        organisation=request.commissioner,
        reason=reason,
        detail=lapsed_detail,
    )
    notify_organisation(
        organisation=award.bid.provider,
        verb="fairness.award.lapsed",
        subject=f"Award to {award.bid.care_home.name} has lapsed",
        template="emails/fairness_award_lapsed.txt",
        context={"tender": tender, "bid": award.bid, "reason": reason},
        dedupe_key=f"award-lapsed-{award.bid_id}",
        link=reverse("bidding:invitation_list"),
    )
    return tender_award(
        actor=actor,
        tender=tender,
        bid=following,
        reason=f"Next ranked bid after the award lapsed: {reason}",
        top_up_payer=top_up_payer,
    )


# --- Clarification questions ---------------------------------------------------------------


@transaction.atomic
def question_ask(*, actor, tender: Tender, question: str) -> ClarificationQuestion:
    require(is_provider_user(actor), "Only invited providers can ask questions.")
    invited = Invitation.objects.filter(
        tender_id=tender.pk, care_home__provider_id=actor.organisation_id, status=Invitation.Status.INVITED
    ).exists()
    if not invited:
        raise NotFoundError("No such tender.")
    tender, now = tender_lock_open(tender.pk)
    if not question.strip():
        raise ApplicationError("Enter your question.", fields={"question": "Enter your question."})
    asked = ClarificationQuestion.objects.create(
        tender=tender, provider_id=actor.organisation_id, asked_by=actor, question=question.strip(), asked_at=now
    )
    audit_record(
        actor=actor,
        verb="fairness.question.asked",
        target=tender.request,
        organisation=tender.request.commissioner,
        detail={"tender": tender.pk, "question": asked.pk},
    )
    notify_organisation(
        organisation=tender.request.commissioner,
        roles=[Role.BROKER],
        verb="fairness.question.asked",
        subject=f"Question on tender {tender.pk} for {tender.request.case_reference}",
        template="emails/fairness_question.txt",
        context={"tender": tender, "question": asked},
        dedupe_key=f"question-{asked.pk}-asked",
        link=reverse("fairness:tender_fairness", args=[tender.pk]),
    )
    return asked


@transaction.atomic
def question_answer(*, actor, question: ClarificationQuestion, answer: str) -> ClarificationQuestion:
    """Publish the answer to every invited provider; a late answer extends the deadline.

    The deadline moves under the tender row lock, against the database clock, so a bid racing
    the extension gets the same answer the close task will.
    """
    tender = Tender.objects.select_related("request__commissioner").get(pk=question.tender_id)
    _require_broker_of(actor, tender)
    tender, now = tender_lock_open(tender.pk)
    question = ClarificationQuestion.objects.select_for_update().get(pk=question.pk)
    if question.answered_at is not None:
        raise ConflictError("This question has already been answered.", code="already_answered")
    if not answer.strip():
        raise ApplicationError("Enter the answer.", fields={"answer": "Enter the answer."})
    market = market_settings_for(tender.request.commissioner)
    question.answer = answer.strip()
    question.answered_by = actor
    question.answered_at = now
    late = tender.closes_at - now <= timedelta(hours=market.late_question_hours)
    if late:
        extended = now + timedelta(hours=market.deadline_extension_hours)
        if extended > tender.closes_at:
            previous = tender.closes_at
            tender.closes_at = extended
            tender.save(update_fields=["closes_at"])
            question.extended_closes_at = extended
            audit_record(
                actor=actor,
                verb="fairness.deadline.extended",
                target=tender.request,
                organisation=tender.request.commissioner,
                reason="A clarification was answered late in the window.",
                detail={
                    "tender": tender.pk,
                    "question": question.pk,
                    "from": previous.isoformat(),
                    "to": extended.isoformat(),
                },
            )
            transaction.on_commit(lambda: schedule_tender_close(tender.pk, extended), robust=True)
    question.save(update_fields=["answer", "answered_by", "answered_at", "extended_closes_at"])
    audit_record(
        actor=actor,
        verb="fairness.question.answered",
        target=tender.request,
        organisation=tender.request.commissioner,
        detail={"tender": tender.pk, "question": question.pk},
    )
    providers = Organisation.objects.filter(
        care_homes__invitations__tender=tender, care_homes__invitations__status=Invitation.Status.INVITED
    ).distinct()
    subject = f"Clarification published on tender {tender.pk}"
    if question.extended_closes_at:
        subject += f": deadline extended to {local_time_text(question.extended_closes_at)}"
    for provider in providers:
        notify_organisation(
            organisation=provider,
            verb="fairness.question.answered",
            subject=subject,
            template="emails/fairness_answer.txt",
            context={"tender": tender, "question": question},
            dedupe_key=f"question-{question.pk}-answered",
            link=reverse("fairness:provider_questions", args=[tender.pk]),
        )
    return question


# --- Standstill and challenges -------------------------------------------------------------


@transaction.atomic
def challenge_raise(*, actor, bid: Bid, grounds: str) -> Challenge:
    require(is_provider_user(actor), "Only an unsuccessful provider can challenge an award.")
    if bid.provider_id != actor.organisation_id:
        raise NotFoundError("No such bid.")
    eligibility = bid_challenge_eligibility(bid=bid, lock=True)
    if not eligibility.allowed:
        raise ConflictError(eligibility.message, code=eligibility.code)
    if not grounds.strip():
        raise ApplicationError("Give the grounds of the challenge.", fields={"grounds": "Enter the grounds."})
    standstill = eligibility.standstill
    challenge = Challenge.objects.create(standstill=standstill, bid=bid, raised_by=actor, grounds=grounds.strip())
    standstill.status = Standstill.Status.CHALLENGED
    standstill.save(update_fields=["status"])
    tender = Tender.objects.select_related("request__commissioner").get(pk=bid.tender_id)
    audit_record(
        actor=actor,
        verb="fairness.challenge.raised",
        target=tender.request,
        organisation=tender.request.commissioner,
        reason=challenge.grounds,
        detail={"tender": tender.pk, "bid": bid.pk, "challenge": challenge.pk},
    )
    notify_organisation(
        organisation=tender.request.commissioner,
        roles=[Role.BROKER],
        verb="fairness.challenge.raised",
        subject=f"Award challenged: tender {tender.pk} for {tender.request.case_reference}",
        template="emails/fairness_challenge.txt",
        context={"tender": tender, "challenge": challenge},
        dedupe_key=f"challenge-{challenge.pk}",
        link=reverse("fairness:tender_fairness", args=[tender.pk]),
    )
    return challenge


@transaction.atomic
def challenge_decide(*, actor, challenge: Challenge, decision: str, reason: str) -> Challenge:
    """Dismissed: the standstill carries on (or confirms if over). Upheld: the award is set aside.

    A broker or a commissioner of the commissioning body may decide: challenges often go to
    someone senior to the broker who made the award.
    """
    tender = Tender.objects.select_related("request__commissioner").get(pk=challenge.standstill.tender_id)
    require_member_of(actor, tender.request.commissioner_id, not_found="No such tender.")
    require_council_member(actor, tender.request.commissioner_id, "Only the commissioning body can do this.")
    challenge = Challenge.objects.select_for_update().select_related("bid__provider").get(pk=challenge.pk)
    standstill = Standstill.objects.select_for_update().get(pk=challenge.standstill_id)
    if challenge.decision != Challenge.Decision.PENDING:
        raise ConflictError("This challenge has already been decided.", code="decided")
    if decision not in (Challenge.Decision.DISMISSED, Challenge.Decision.UPHELD):
        raise ApplicationError("Choose a decision.", fields={"decision": "Choose dismissed or upheld."})
    if not reason.strip():
        raise ApplicationError("Give the reasons for the decision.", fields={"reason": "Enter the reasons."})
    now = _db_now()
    challenge.decision = decision
    challenge.decision_reason = reason.strip()
    challenge.decided_by = actor
    challenge.decided_at = now
    challenge.save(update_fields=["decision", "decision_reason", "decided_by", "decided_at"])
    pending = standstill.challenges.filter(decision=Challenge.Decision.PENDING).exists()
    if decision == Challenge.Decision.UPHELD:
        standstill.status = Standstill.Status.SET_ASIDE
    elif not pending and standstill.status == Standstill.Status.CHALLENGED:
        standstill.status = Standstill.Status.RUNNING
    standstill.save(update_fields=["status"])
    audit_record(
        actor=actor,
        verb=f"fairness.challenge.{decision}",
        target=tender.request,
        organisation=tender.request.commissioner,
        reason=challenge.decision_reason,
        detail={"tender": tender.pk, "challenge": challenge.pk, "bid": challenge.bid_id},
    )
    notify_organisation(
        organisation=challenge.bid.provider,
        verb="fairness.challenge.decided",
        subject=f"Your challenge on tender {tender.pk} was {challenge.get_decision_display().lower()}",
        template="emails/fairness_challenge_decided.txt",
        context={"tender": tender, "challenge": challenge},
        dedupe_key=f"challenge-{challenge.pk}-decided",
        link=reverse("fairness:provider_award", args=[challenge.bid_id]),
    )
    if standstill.status == Standstill.Status.RUNNING and standstill.ends_at <= now:
        standstill_confirm(standstill_id=standstill.pk)
    return challenge


def standstill_confirm(*, standstill_id: int) -> bool:
    """Confirm a standstill that ran its course unchallenged. Returns whether this call confirmed it."""
    with transaction.atomic():
        claimed = Standstill.objects.filter(
            pk=standstill_id, status=Standstill.Status.RUNNING, ends_at__lte=Now()
        ).update(status=Standstill.Status.CONFIRMED, confirmed_at=Now())
        if not claimed:
            return False
        standstill = Standstill.objects.select_related("tender__request__commissioner").get(pk=standstill_id)
        audit_record(
            actor=None,
            verb="fairness.standstill.confirmed",
            target=standstill.tender.request,
            organisation=standstill.tender.request.commissioner,
            detail={"tender": standstill.tender_id, "bid": standstill.bid_id},
        )
    return True


def standstills_confirm_due() -> int:
    due = Standstill.objects.filter(status=Standstill.Status.RUNNING, ends_at__lte=Now()).values_list("pk", flat=True)
    return sum(standstill_confirm(standstill_id=pk) for pk in list(due))


def placement_is_confirmed(*, placement: Placement) -> bool:
    """A tender placement is confirmed when no standstill applies, or it ended unchanged or was waived."""
    if placement.request_id is None:
        return True
    return (
        not Standstill.objects.filter(
            tender__request_id=placement.request_id,
            bid__award__isnull=False,
        )
        .filter(~Q(status__in=[Standstill.Status.CONFIRMED, Standstill.Status.WAIVED]))
        .exists()
    )
