"""Demo who-pays data: the council's payment rules, this year's national FNC rate, an NHS body, an
outcome payment rule, and a few live placements shared with residents' contributions, NHS-funded
nursing care and top-ups, with absences from the home.

Idempotent: each part is written only when it is not there yet.
"""

import datetime as dt
from decimal import Decimal

from django.utils import timezone

from contracts.models import FncRate, FundingShare, OutcomePaymentRule, PayerType, PaymentRules, Route
from contracts.selectors import Share
from contracts.services import (
    absence_record,
    fnc_rate_apply,
    fnc_rate_record,
    funding_shares_change,
    outcome_rule_create,
    payment_rules_update,
)
from demo.organisations import COUNCIL_SLUG
from lots.models import Lot, Setting
from organisations.models import Organisation
from organisations.services import organisation_create
from placements.models import Placement

ICB_SLUG = "demo-icb"
FNC_WEEKLY = Decimal("254.06")


def seed_payers(*, stdout=None) -> int:
    council = Organisation.objects.get(slug=COUNCIL_SLUG)
    commissioner = council.users.filter(role="commissioner").first()
    broker = council.users.filter(role="broker").first()
    today = timezone.localdate()
    if not PaymentRules.objects.filter(commissioner=council).exists():
        payment_rules_update(
            by=commissioner, absence_full_weeks=6, absence_reduced_percent=Decimal("80"), death_paid_days=3
        )
    icb = Organisation.objects.filter(slug=ICB_SLUG).first() or organisation_create(
        kind=Organisation.Kind.NHS, name="Staffordshire and Stoke-on-Trent ICB", slug=ICB_SLUG
    )
    if not OutcomePaymentRule.objects.filter(commissioner=council).exists():
        outcome_rule_create(
            by=commissioner,
            outcome=Placement.AssessmentOutcome.HOME,
            amount=Decimal("250.00"),
            description="Home within the assessment period",
            lot=Lot.objects.get(number=1),
        )
    changed = 0
    if not FundingShare.objects.filter(placement__commissioner=council, reason=FundingShare.Reason.CHANGE).exists():
        live = (
            Placement.objects.live()
            .filter(commissioner=council, agreements__isnull=False, start_date__lte=today, weekly_fee__gt=400)
            .exclude(end_date__lt=today)
            .exclude(source=Placement.Source.BLOCK_BED)
            .distinct()
            .order_by("pk")
        )
        nursing = live.filter(lot__setting=Setting.NURSING).first()
        if nursing is not None and nursing.weekly_fee > FNC_WEEKLY + 100:
            changed += _share(nursing, broker, contribution="95.00", fnc=FNC_WEEKLY, icb=icb)
        for placement in live.exclude(pk=getattr(nursing, "pk", None))[:3]:
            changed += _share(placement, broker, contribution="120.00")
        for placement in live.exclude(pk=getattr(nursing, "pk", None))[3:5]:
            away = max(placement.start_date, today - dt.timedelta(days=20))
            absence_record(
                placement=placement,
                starts_on=away,
                ends_on=away + dt.timedelta(days=9),
                by=broker,
                note="Hospital stay after a fall",
            )
    if not FncRate.objects.exists():
        rate = fnc_rate_record(
            effective_from=dt.date(today.year if today.month >= 4 else today.year - 1, 4, 1),
            weekly_rate=FNC_WEEKLY,
            note="The national rate for the year",
            by=commissioner,
        )
        fnc_rate_apply(rate=rate)
    if stdout:
        stdout.write(f"  Payment rules, an FNC rate, an outcome rule; who pays changed on {changed} placements.")
    return changed


def _share(placement, broker, *, contribution: str, fnc=None, icb=None) -> int:
    contribution = Decimal(contribution)
    others = contribution + (fnc or 0) + placement.top_up_weekly_amount
    shares = [
        Share(PayerType.COUNCIL, placement.weekly_fee - others),
        Share(PayerType.CONTRIBUTION, contribution, Route.NET, payer_name=f"Resident {placement.case_reference}"),
    ]
    if fnc:
        shares.append(Share(PayerType.FNC, fnc, Route.NET, payer_organisation_id=icb.pk))
    if placement.top_up_weekly_amount:
        payer = placement.top_up_payer or "Family member"
        shares.append(Share(PayerType.TOP_UP, placement.top_up_weekly_amount, Route.GROSS, payer_name=payer))
    funding_shares_change(
        placement=placement,
        effective_from=max(placement.start_date, timezone.localdate() - dt.timedelta(days=28)),
        shares=shares,
        reason="Financial assessment completed",
        by=broker,
    )
    return 1
