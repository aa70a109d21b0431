"""Utilisation is counted from bed, occupancy and out-of-service rows; expectations are worked by hand."""

from datetime import date, timedelta
from decimal import Decimal

import pytest

from blockbeds.models import BlockBed, Occupancy, OutOfService
from blockbeds.selectors import BedState, bed_state, utilisation
from placements.models import Placement

from .factories import BlockContractFactory, CareHomeFactory

pytestmark = pytest.mark.django_db


def occupy(bed: BlockBed, start: date, end: date | None = None) -> Occupancy:
    contract = bed.contract
    placement = Placement.objects.create(
        commissioner=contract.commissioner,
        case_reference=f"CASE-{bed.pk}-{start:%m%d}",
        care_home=contract.care_home,
        lot=contract.lots.first(),
        source=Placement.Source.BLOCK_BED,
        weekly_fee=contract.weekly_rate,
        council_weekly_amount=contract.weekly_rate,
        start_date=start,
        end_date=end - timedelta(days=1) if end else None,
        in_county=True,
        target_date=start,
        sourced_at="2026-01-01T09:00:00Z",
    )
    return Occupancy.objects.create(bed=bed, placement=placement, start_date=start, end_date=end)


@pytest.fixture
def january(council_a, council_b):
    """Four contracts of council A around January 2026 (and one of council B, never counted).

    A: 10-25 Jan, £700 a week (£100 a day), lots 1 and 2, two beds.
       bed 1 live from 10 Jan, filled 12 Jan up to 20 Jan;
       bed 2 live from 15 Jan, out of service 20-22 Jan, filled from 23 Jan.
    B: Dec 2025 - Mar 2026, £800 a week, lot 1, two beds live from 1 Dec.
       bed 1 filled from 29 Jan; bed 2 filled 15 Dec up to 3 Jan.
    C: all 2026, £1,000 a week, lot 6: bed 1 never live yet, bed 2 live from 1 Feb.
    D: from 31 Jan, £700 a week, lot 2, one bed live from 31 Jan.
    """
    a = BlockContractFactory(
        commissioner=council_a,
        weekly_rate=Decimal("700.00"),
        start_date=date(2026, 1, 10),
        end_date=date(2026, 1, 25),
        lot_numbers=[1, 2],
        beds=2,
    )
    a1, a2 = a.beds.order_by("label")
    a2.live_from = date(2026, 1, 15)
    a2.save()
    occupy(a1, date(2026, 1, 12), date(2026, 1, 20))
    OutOfService.objects.create(bed=a2, start_date=date(2026, 1, 20), end_date=date(2026, 1, 23), reason="Flood")
    occupy(a2, date(2026, 1, 23))

    b = BlockContractFactory(
        commissioner=council_a,
        weekly_rate=Decimal("800.00"),
        start_date=date(2025, 12, 1),
        end_date=date(2026, 3, 31),
        lot_numbers=[1],
        beds=2,
    )
    b1, b2 = b.beds.order_by("label")
    occupy(b1, date(2026, 1, 29))
    occupy(b2, date(2025, 12, 15), date(2026, 1, 3))

    c = BlockContractFactory(
        commissioner=council_a,
        weekly_rate=Decimal("1000.00"),
        start_date=date(2026, 1, 1),
        end_date=date(2026, 12, 31),
        lot_numbers=[6],
        beds=2,
        beds__live_from=None,
    )
    c.beds.filter(label="002").update(live_from=date(2026, 2, 1))

    d = BlockContractFactory(
        commissioner=council_a,
        weekly_rate=Decimal("700.00"),
        start_date=date(2026, 1, 31),
        end_date=date(2026, 6, 30),
        lot_numbers=[2],
        beds=1,
    )
    BlockContractFactory(
        commissioner=council_b,
        care_home=CareHomeFactory(),
        start_date=date(2025, 1, 1),
        end_date=date(2027, 1, 1),
        beds=5,
    )
    return {"a": a, "b": b, "c": c, "d": d}


def run(council, at=date(2026, 1, 13)):
    return utilisation(commissioner=council, at=at, date_from=date(2026, 1, 1), date_to=date(2026, 1, 31))


def by_reference(result):
    return {row.contract.reference: row.counts for row in result.contracts}


def test_void_bed_days_and_cost_follow_contract_dates_live_dates_and_occupancy_changes(january, council_a):
    result = run(council_a)
    counts = by_reference(result)

    # A: bed 1 live 10-25 Jan (16 days) less 8 filled = 8; bed 2 live 15-25 (11) less 3 out
    # of service less 3 filled (23-25) = 5. 13 void days at £100 = £1,300.
    assert counts[january["a"].reference].void_bed_days == 13
    assert counts[january["a"].reference].void_cost == Decimal("1300.00")
    # B: bed 1 void 1-28 Jan = 28; bed 2 void from 3 Jan = 29. 57 days at £800/7 = £6,514.29.
    assert counts[january["b"].reference].void_bed_days == 57
    assert counts[january["b"].reference].void_cost == Decimal("6514.29")
    # C: nothing live in January.
    assert counts[january["c"].reference].void_bed_days == 0
    assert counts[january["c"].reference].void_cost == Decimal("0.00")
    # D: starts on 31 Jan: one void day.
    assert counts[january["d"].reference].void_bed_days == 1
    assert counts[january["d"].reference].void_cost == Decimal("100.00")

    assert result.overall.void_bed_days == 71
    assert result.overall.void_cost == Decimal("7914.29")
    # Filled: A 8 + 3, B 3 (29-31) + 2 (1-2 Jan) = 16 of 87 live bed-days.
    assert result.overall.filled_bed_days == 16
    assert result.overall.live_bed_days == 87


def test_counts_as_at_a_date_come_from_rows(january, council_a):
    on_13th = run(council_a, at=date(2026, 1, 13))
    assert (on_13th.overall.contracted, on_13th.overall.live, on_13th.overall.filled, on_13th.overall.void) == (
        6,
        3,
        1,
        2,
    )
    assert on_13th.overall.not_yet_live == 3

    on_21st = run(council_a, at=date(2026, 1, 21))
    assert (on_21st.overall.contracted, on_21st.overall.live, on_21st.overall.filled, on_21st.overall.void) == (
        6,
        3,
        0,
        3,
    )
    assert on_21st.overall.out_of_service == 1

    # On 31 Jan contract A has ended and D has started.
    on_31st = run(council_a, at=date(2026, 1, 31))
    counts = by_reference(on_31st)
    assert january["a"].reference not in counts or counts[january["a"].reference].contracted == 0
    assert counts[january["d"].reference].void == 1
    assert (on_31st.overall.contracted, on_31st.overall.live, on_31st.overall.filled) == (5, 3, 1)


def test_lot_rows_count_a_contract_under_each_lot_it_serves(january, council_a):
    lots = {row.lot.number: row.counts for row in run(council_a).lots}
    assert lots[1].void_bed_days == 13 + 57
    assert lots[2].void_bed_days == 13 + 1
    assert lots[6].void_bed_days == 0
    assert lots[6].contracted == 2


def test_occupancy_rate_over_time_is_filled_over_live_bed_days(january, council_a):
    result = utilisation(
        commissioner=council_a, at=date(2026, 1, 13), date_from=date(2025, 12, 1), date_to=date(2026, 1, 31)
    )
    december, jan = result.periods
    assert (december.start, december.end) == (date(2025, 12, 1), date(2025, 12, 31))
    # December: contract B only, two beds x 31 days; bed 2 filled 15-31 Dec = 17 days.
    assert (december.live_bed_days, december.filled_bed_days) == (62, 17)
    assert december.occupancy_rate == Decimal("27.4")
    assert (jan.live_bed_days, jan.filled_bed_days) == (87, 16)
    assert jan.occupancy_rate == Decimal("18.4")


def test_another_councils_contracts_are_not_counted(january, council_b):
    result = run(council_b)
    assert result.overall.contracted == 5
    assert {row.contract.commissioner_id for row in result.contracts} == {council_b.pk}


def test_bed_state_reads_the_rows(january):
    a1, a2 = january["a"].beds.order_by("label")
    assert bed_state(a1, date(2026, 1, 9)) == BedState.NOT_IN_CONTRACT
    assert bed_state(a1, date(2026, 1, 11)) == BedState.VOID
    assert bed_state(a1, date(2026, 1, 19)) == BedState.FILLED
    assert bed_state(a1, date(2026, 1, 20)) == BedState.VOID
    assert bed_state(a2, date(2026, 1, 14)) == BedState.CONTRACTED
    assert bed_state(a2, date(2026, 1, 22)) == BedState.OUT_OF_SERVICE
    assert bed_state(a2, date(2026, 1, 23)) == BedState.FILLED


def test_utilisation_reads_a_fixed_number_of_queries(january, council_a, django_assert_max_num_queries):
    # Contracts, then their beds, occupancies, out-of-service periods, lots and dated rates.
    with django_assert_max_num_queries(6):
        run(council_a)
