"""Absences, deaths and outcome payments reach the payment lines by the commissioning body's rules,
with each line's note saying which rule applied; an outcome payment is paid once."""

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from contracts.models import FundingShare, OutcomePayment, PayerType, PaymentRules, Route
from contracts.payments import payment_schedule_build, period_parse
from contracts.selectors import Share, shares_on
from contracts.services import (
    absence_record,
    agreement_create_for_placement,
    death_record,
    funding_shares_change,
    outcome_rule_create,
)
from core.errors import ConflictError
from organisations.models import Organisation
from placements.models import Placement
from placements.services import assessment_outcome_record

from .factories import OrganisationFactory, PaidPlacementFactory, lot

pytestmark = pytest.mark.django_db
D = Decimal


@pytest.fixture
def rules(council_a):
    return PaymentRules.objects.create(
        commissioner=council_a, absence_full_weeks=6, absence_reduced_percent=D("80"), death_paid_days=3
    )


def _lines(schedule, reference):
    return [
        (line.start, line.end, line.days, line.payer_type, line.amount, line.note)
        for line in schedule.lines
        if line.reference == reference
    ]


def test_a_ten_week_hospital_absence_is_paid_in_full_for_six_weeks_then_at_eighty_percent(council_a, broker_a, rules):
    placement = PaidPlacementFactory(
        commissioner=council_a, case_reference="AWAY", start_date=dt.date(2025, 9, 1), council_weekly_amount=D("700")
    )
    agreement_create_for_placement(placement=placement, actor=broker_a)
    funding_shares_change(
        placement=placement,
        effective_from=placement.start_date,
        shares=[
            Share(PayerType.COUNCIL, D("560.00")),
            Share(PayerType.CONTRIBUTION, D("140.00"), Route.NET, payer_name="Mr Away"),
        ],
        reason="Financial assessment",
        by=broker_a,
    )
    # In hospital from Monday 2 March 2026 to Sunday 10 May 2026: ten weeks.
    absence_record(
        placement=placement, starts_on=dt.date(2026, 3, 2), ends_on=dt.date(2026, 5, 10), by=broker_a, note="Fall"
    )
    full = "Away (hospital admission from 2 Mar 2026): full fee for the first 6 weeks"
    reduced = "Away (hospital admission from 2 Mar 2026): 80% of the fee after 6 weeks"

    april = payment_schedule_build(period=period_parse("2026-W14/4"), commissioner_id=council_a.pk)
    # 30 March to 12 April: weeks 5 and 6 in full. 13 to 26 April: 80%, 560 x 0.8 x 14 / 7 = 896.00.
    assert _lines(april, "AWAY") == [
        (dt.date(2026, 3, 30), dt.date(2026, 4, 12), 14, "council", D("1120.00"), full),
        (dt.date(2026, 3, 30), dt.date(2026, 4, 12), 14, "contribution", D("280.00"), full),
        (dt.date(2026, 4, 13), dt.date(2026, 4, 26), 14, "council", D("896.00"), reduced),
        (dt.date(2026, 4, 13), dt.date(2026, 4, 26), 14, "contribution", D("224.00"), reduced),
    ]
    may = payment_schedule_build(period=period_parse("2026-W18/4"), commissioner_id=council_a.pk)
    # 27 April to 10 May still away at 80%; back from 11 May, paid in full with no note.
    assert _lines(may, "AWAY") == [
        (dt.date(2026, 4, 27), dt.date(2026, 5, 10), 14, "council", D("896.00"), reduced),
        (dt.date(2026, 4, 27), dt.date(2026, 5, 10), 14, "contribution", D("224.00"), reduced),
        (dt.date(2026, 5, 11), dt.date(2026, 5, 24), 14, "council", D("1120.00"), ""),
        (dt.date(2026, 5, 11), dt.date(2026, 5, 24), 14, "contribution", D("280.00"), ""),
    ]
    with pytest.raises(ConflictError):
        absence_record(placement=placement, starts_on=dt.date(2026, 5, 1), by=broker_a)


def test_a_death_ends_the_placement_and_is_paid_for_the_rule_s_days_after(council_a, broker_a, rules):
    placement = PaidPlacementFactory(
        commissioner=council_a, case_reference="DIED", start_date=dt.date(2025, 9, 1), council_weekly_amount=D("770")
    )
    agreement_create_for_placement(placement=placement, actor=broker_a)
    # Died Saturday 25 April 2026: paid to Tuesday 28 April, across the end of the four weeks.
    death_record(placement=placement, died_on=dt.date(2026, 4, 25), by=broker_a)
    placement.refresh_from_db()
    assert placement.end_date == dt.date(2026, 4, 25)
    after = "Paid for 3 days after the death on 25 Apr 2026"

    april = payment_schedule_build(period=period_parse("2026-W14/4"), commissioner_id=council_a.pk)
    assert _lines(april, "DIED") == [
        (dt.date(2026, 3, 30), dt.date(2026, 4, 25), 27, "council", D("2970.00"), ""),
        (dt.date(2026, 4, 26), dt.date(2026, 4, 26), 1, "council", D("110.00"), after),
    ]
    may = payment_schedule_build(period=period_parse("2026-W18/4"), commissioner_id=council_a.pk)
    assert _lines(may, "DIED") == [(dt.date(2026, 4, 27), dt.date(2026, 4, 28), 2, "council", D("220.00"), after)]
    assert placement.agreements.get(is_current=True).reason == "ended"
    with pytest.raises(ConflictError):
        death_record(placement=placement, died_on=dt.date(2026, 4, 26), by=broker_a)


@pytest.fixture
def d2a_stay(council_a, broker_a):
    today = timezone.localdate()
    nhs = OrganisationFactory(kind=Organisation.Kind.NHS, name="Staffordshire ICB", slug="icb")
    placement = PaidPlacementFactory(
        commissioner=council_a,
        case_reference="D2A-1",
        lot=lot(6),
        start_date=today - dt.timedelta(days=20),
        council_weekly_amount=D("900"),
        pathway="pathway_3_assessment",
        assessment_ends_on=today + dt.timedelta(days=8),
    )
    agreement_create_for_placement(placement=placement, actor=broker_a)
    funding_shares_change(
        placement=placement,
        effective_from=placement.start_date,
        shares=[
            Share(PayerType.COUNCIL, D("300.00")),
            Share(PayerType.NHS_JOINT, D("600.00"), Route.NET, payer_organisation_id=nhs.pk),
        ],
        reason="Discharge to assess: joint funded",
        by=broker_a,
    )
    return placement


def test_a_d2a_outcome_puts_its_payment_in_the_next_schedule_once_even_if_recorded_twice(
    d2a_stay, council_a, broker_a, commissioner_a
):
    rule = outcome_rule_create(
        by=commissioner_a,
        lot=lot(6),
        outcome=Placement.AssessmentOutcome.HOME,
        amount=D("500.00"),
        description="Home within the assessment period",
    )
    today = timezone.localdate()
    for _ in range(2):
        assessment_outcome_record(d2a_stay, outcome=Placement.AssessmentOutcome.HOME, on=today, by=broker_a)

    (payment,) = OutcomePayment.objects.all()
    assert (payment.rule, payment.amount, payment.due_on) == (rule, D("500.00"), today)
    year, week, _ = today.isocalendar()
    schedule = payment_schedule_build(period=period_parse(f"{year}-W{week:02d}"), commissioner_id=council_a.pk)
    outcome_lines = [line for line in schedule.lines if line.kind == "outcome"]
    assert [(line.amount, line.payer_type, line.reference) for line in outcome_lines] == [
        (D("500.00"), "council", "D2A-1")
    ]
    assert "Home within the assessment period" in outcome_lines[0].note
    assert schedule.totals.gross == sum(line.amount for line in schedule.lines)


def test_long_term_in_the_same_home_moves_the_nhs_share_to_the_council_in_a_new_version(d2a_stay, broker_a):
    today = timezone.localdate()
    versions = d2a_stay.agreements.count()
    assessment_outcome_record(d2a_stay, outcome=Placement.AssessmentOutcome.LONG_TERM_SAME_HOME, on=today, by=broker_a)
    assert {s.payer_type: s.weekly_amount for s in shares_on(d2a_stay, today)} == {"council": D("900.00")}
    assert {s.payer_type for s in shares_on(d2a_stay, today - dt.timedelta(days=1))} == {"council", "nhs_joint"}
    assert d2a_stay.agreements.count() == versions + 1
    current = d2a_stay.agreements.get(is_current=True)
    assert current.reason == "funding_change"
    assert [row["payer_type"] for row in current.funding_shares] == ["council"]
    assert FundingShare.objects.filter(placement=d2a_stay, reason="assessment_outcome").exists()
