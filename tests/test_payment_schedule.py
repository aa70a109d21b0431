"""Payment schedules: pro-rata days, fee changes inside the period, block beds, exact totals."""

import datetime as dt
from decimal import Decimal

import pytest

from blockbeds.models import Occupancy
from contracts.payments import payment_schedule_build, period_parse
from contracts.services import uplift_apply, uplift_queue
from placements.models import Placement

from .factories import BlockContractFactory, CareHomeFactory, PaidPlacementFactory, backdated_uplift, lot

pytestmark = pytest.mark.django_db

D = Decimal
# Four weeks: Monday 30 March to Sunday 26 April 2026 (28 days).
PERIOD = "2026-W14/4"


@pytest.fixture
def cast(council_a, council_b, provider_a, provider_b, commissioner_a):
    alder = CareHomeFactory(provider=provider_a, name="Alder House")
    beech = CareHomeFactory(provider=provider_b, name="Beech Court")
    starts = PaidPlacementFactory(
        commissioner=council_a,
        care_home=alder,
        case_reference="STARTS",
        lot=lot(1),
        start_date=dt.date(2026, 4, 9),
        council_weekly_amount=D("812.50"),
    )
    ends = PaidPlacementFactory(
        commissioner=council_a,
        care_home=alder,
        case_reference="ENDS",
        lot=lot(2),
        start_date=dt.date(2025, 6, 1),
        end_date=dt.date(2026, 4, 15),
        council_weekly_amount=D("650.00"),
        top_up_weekly_amount=D("95.00"),
        top_up_payer="Daughter",
    )
    uplifted = PaidPlacementFactory(
        commissioner=council_a,
        care_home=alder,
        case_reference="UPLIFTED",
        lot=lot(1),
        start_date=dt.date(2025, 1, 6),
        council_weekly_amount=D("900.00"),
        top_up_weekly_amount=D("50.00"),
        top_up_payer="Son",
    )
    other_council = PaidPlacementFactory(commissioner=council_b, care_home=alder, case_reference="OTHER-COUNCIL")
    block = BlockContractFactory(
        commissioner=council_a,
        care_home=beech,
        reference="BLK-BEECH",
        weekly_rate=D("1012.34"),
        start_date=dt.date(2025, 10, 1),
        end_date=dt.date(2027, 9, 30),
        beds=2,
    )
    void_bed, filled_bed = block.beds.order_by("label")
    in_block_bed = PaidPlacementFactory(
        commissioner=council_a,
        care_home=beech,
        case_reference="IN-BLOCK-BED",
        source=Placement.Source.BLOCK_BED,
        start_date=dt.date(2026, 2, 1),
        council_weekly_amount=D("1012.34"),
    )
    Occupancy.objects.create(bed=filled_bed, placement=in_block_bed, start_date=dt.date(2026, 2, 1))
    uplift = backdated_uplift(
        actor=commissioner_a,
        name="April 2026",
        basis="index_linked",
        effective_from=dt.date(2026, 4, 8),
        rules=[{"lot": lot(1), "percentage": D("3.7")}],
    )
    uplift_queue(uplift=uplift, actor=commissioner_a)
    uplift_apply(uplift_id=uplift.pk)
    return {
        "starts": starts,
        "ends": ends,
        "uplifted": uplifted,
        "other_council": other_council,
        "void_bed": void_bed,
        "filled_bed": filled_bed,
    }


def _line(lines, **match):
    found = [line for line in lines if all(getattr(line, k) == v for k, v in match.items())]
    assert len(found) == 1, found
    return found[0]


def test_schedule_lines_and_totals_are_exact_to_the_penny(cast, council_a, provider_a, provider_b):
    schedule = payment_schedule_build(period=period_parse(PERIOD), commissioner_id=council_a.pk)

    assert (schedule.period.start, schedule.period.end, schedule.period.days) == (
        dt.date(2026, 3, 30),
        dt.date(2026, 4, 26),
        28,
    )
    lines = schedule.lines
    # Starts on Thursday 9 April: 18 days x 812.50 / 7 = 2089.2857 -> 2089.29.
    starts = _line(lines, reference="STARTS")
    assert (starts.start, starts.end, starts.days) == (dt.date(2026, 4, 9), dt.date(2026, 4, 26), 18)
    assert (starts.council_amount, starts.top_up_amount, starts.gross_amount) == (D("2089.29"), D("0.00"), D("2089.29"))

    # Ends Wednesday 15 April (last day paid): 17 days; 650 x 17 / 7 = 1578.5714; 95 x 17 / 7 = 230.7143.
    # One line per share: the council's and the daughter's top-up.
    ends = _line(lines, reference="ENDS", payer_type="council")
    ends_top_up = _line(lines, reference="ENDS", payer_type="top_up")
    assert (ends.start, ends.end, ends.days) == (dt.date(2026, 3, 30), dt.date(2026, 4, 15), 17)
    assert (ends_top_up.start, ends_top_up.end, ends_top_up.days) == (dt.date(2026, 3, 30), dt.date(2026, 4, 15), 17)
    assert (ends.council_amount, ends_top_up.top_up_amount, ends.gross_amount + ends_top_up.gross_amount) == (
        D("1578.57"),
        D("230.71"),
        D("1809.28"),
    )
    assert (ends_top_up.top_up_payer, ends_top_up.payer, ends.payer) == ("Daughter", "Daughter", council_a.name)

    # Uplift of 3.7% from Wednesday 8 April: 950.00 + 35.15, all of it on the council's part.
    before = _line(lines, reference="UPLIFTED", weekly_fee=D("950.00"), payer_type="council")
    before_top_up = _line(lines, reference="UPLIFTED", weekly_fee=D("950.00"), payer_type="top_up")
    after = _line(lines, reference="UPLIFTED", weekly_fee=D("985.15"), payer_type="council")
    after_top_up = _line(lines, reference="UPLIFTED", weekly_fee=D("985.15"), payer_type="top_up")
    assert (before.start, before.end, before.days) == (dt.date(2026, 3, 30), dt.date(2026, 4, 7), 9)
    # 900 x 9 / 7 = 1157.1429; 50 x 9 / 7 = 64.2857.
    assert (before.council_amount, before_top_up.top_up_amount) == (D("1157.14"), D("64.29"))
    assert (after.start, after.end, after.days) == (dt.date(2026, 4, 8), dt.date(2026, 4, 26), 19)
    # 935.15 x 19 / 7 = 2538.2643; 50 x 19 / 7 = 135.7143.
    assert (after.council_weekly, after_top_up.top_up_weekly) == (D("935.15"), D("50.00"))
    assert (after.council_amount, after_top_up.top_up_amount) == (D("2538.26"), D("135.71"))

    # Block beds are paid the weekly rate for all 28 days, void or filled: 1012.34 x 4 = 4049.36.
    void = _line(lines, bed_id=cast["void_bed"].pk)
    filled = _line(lines, bed_id=cast["filled_bed"].pk)
    assert (void.days, void.council_amount, void.top_up_amount, void.note) == (28, D("4049.36"), D("0.00"), "Void")
    assert (filled.days, filled.council_amount, filled.note) == (28, D("4049.36"), "Filled")
    # The person in the filled bed is paid through the block contract, not again as a placement.
    assert not [line for line in lines if line.reference in ("IN-BLOCK-BED", "OTHER-COUNCIL")]
    assert len(lines) == 9

    # Remittances come in provider name order: Moorlands Homes (B), then Trentside Care (A).
    beech, alder = schedule.remittances
    assert (alder.provider, beech.provider) == (provider_a, provider_b)
    assert (alder.totals.council, alder.totals.top_up, alder.totals.gross) == (D("7363.26"), D("430.71"), D("7793.97"))
    assert (beech.totals.council, beech.totals.top_up, beech.totals.gross) == (D("8098.72"), D("0.00"), D("8098.72"))
    assert (schedule.totals.council, schedule.totals.top_up, schedule.totals.gross) == (
        D("15461.98"),
        D("430.71"),
        D("15892.69"),
    )
    assert schedule.totals.gross == sum(line.gross_amount for line in lines)


def test_single_week_period_pays_seven_days_at_the_weekly_fee(cast, council_a):
    schedule = payment_schedule_build(period=period_parse("2026-W13"), commissioner_id=council_a.pk)
    uplifted = _line(schedule.lines, reference="UPLIFTED", payer_type="council")
    top_up = _line(schedule.lines, reference="UPLIFTED", payer_type="top_up")
    assert (uplifted.days, uplifted.council_amount, top_up.top_up_amount) == (7, D("900.00"), D("50.00"))
    assert not [line for line in schedule.lines if line.reference == "STARTS"]


@pytest.mark.parametrize("value", ["", "2026-15", "2026-W54", "2026-W15/3", "April"])
def test_a_period_that_is_not_an_iso_week_is_refused(value):
    from core.errors import ApplicationError

    with pytest.raises(ApplicationError) as caught:
        period_parse(value)
    assert "period" in caught.value.fields


def test_a_start_date_moved_earlier_is_paid_at_the_agreed_fee_from_the_new_start(council_a, broker_a):
    from contracts.services import agreement_create_for_placement

    placement = PaidPlacementFactory(
        commissioner=council_a, start_date=dt.date(2026, 4, 1), council_weekly_amount=D("700.00")
    )
    agreement_create_for_placement(placement=placement, actor=broker_a)
    Placement.objects.filter(pk=placement.pk).update(start_date=dt.date(2026, 3, 30))

    schedule = payment_schedule_build(period=period_parse("2026-W14"), commissioner_id=council_a.pk)

    (line,) = schedule.lines
    assert (line.start, line.days, line.council_amount) == (dt.date(2026, 3, 30), 7, D("700.00"))
