"""Demo block contracts for the demo council.

Staffordshire reports 379 block beds contracted, 257 live and in payment, 248 of them
filled. The contracts below are laid out so that counting their bed and occupancy rows
today gives exactly those figures; nothing stores the totals.

Deterministic (a fixed random seed, dates relative to today) and idempotent.
"""

import random
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from blockbeds.models import BedEvent, BlockBed, BlockContract, Occupancy, OutOfService
from blockbeds.selectors import void_live_beds
from blockbeds.services import block_contract_create
from demo.organisations import COUNCIL_SLUG
from lots.models import Lot
from lots.selectors import lot_rules_for
from organisations.models import Organisation, Role, User
from placements.models import Placement
from placements.services import placement_request_create
from providers.models import Admission, CareHome

REFERENCE_PREFIX = "SCC-BLK-"
BLOCK_OFFER_CASE = "LAS-BLOCK-FIRST"

T = BlockContract.Type


@dataclass(frozen=True)
class DemoContract:
    contract_type: str
    lots: tuple[int, ...]
    beds: int
    live: int
    filled: int
    weekly_rate: Decimal
    started_days_ago: int
    years: int = 3
    out_of_service: int = 0
    live_soon: bool = True
    uplift: str = "Uplifted each April by the council's published inflationary uplift for care homes."


CONTRACTS = [
    DemoContract(T.LONG_TERM, (1, 2), 40, 40, 39, Decimal("742.00"), 820),
    DemoContract(T.LONG_TERM, (1,), 36, 36, 35, Decimal("718.50"), 640),
    DemoContract(T.LONG_TERM, (6, 7), 30, 30, 29, Decimal("986.00"), 700),
    DemoContract(T.LONG_TERM, (6,), 28, 28, 28, Decimal("954.00"), 510),
    DemoContract(T.DISCHARGE_TO_ASSESS, (1,), 24, 24, 22, Decimal("805.00"), 300, years=2),
    DemoContract(T.DISCHARGE_TO_ASSESS, (6,), 20, 20, 19, Decimal("1040.00"), 280, years=2),
    DemoContract(T.RESPITE, (1, 2), 12, 12, 11, Decimal("760.00"), 400),
    DemoContract(T.RESPITE, (3,), 10, 10, 10, Decimal("1285.00"), 365),
    DemoContract(T.LONG_TERM, (7,), 32, 32, 31, Decimal("1012.00"), 590),
    DemoContract(T.WINTER_PRESSURE, (1,), 30, 0, 0, Decimal("795.00"), 20, years=1),
    DemoContract(T.WINTER_PRESSURE, (6,), 25, 0, 0, Decimal("1030.00"), 20, years=1),
    DemoContract(T.LONG_TERM, (2,), 36, 18, 17, Decimal("776.00"), 60),
    DemoContract(T.LONG_TERM, (2,), 24, 0, 0, Decimal("776.00"), 14),
    DemoContract(T.DISCHARGE_TO_ASSESS, (1, 6), 20, 7, 7, Decimal("880.00"), 45, years=2, out_of_service=4),
    DemoContract(T.OTHER, (5,), 12, 0, 0, Decimal("1150.00"), 7, live_soon=False),
]


def _pick_home(rng: random.Random, council, lots: tuple[int, ...], beds: int, used: set[int]) -> CareHome:
    """An admitted, unsuspended home serving every lot, big enough if one is, not used yet if possible."""
    candidates = list(
        CareHome.objects.filter(admissions__commissioner=council, admissions__status=Admission.Status.ADMITTED)
        .exclude(admissions__commissioner=council, admissions__status=Admission.Status.SUSPENDED)
        .distinct()
        .prefetch_related("admissions__lot")
        .order_by("name")
    )
    serving = [
        home
        for home in candidates
        if set(lots) <= {a.lot.number for a in home.admissions.all() if a.commissioner_id == council.pk}
    ] or candidates
    fresh = [home for home in serving if home.pk not in used] or serving
    big = [home for home in fresh if home.registered_beds >= beds] or fresh
    return rng.choice(big)


SHORT_STAYS = {T.DISCHARGE_TO_ASSESS, T.RESPITE}


def _stays(rng: random.Random, bed: BlockBed, spec: DemoContract, *, filled: bool, today: date) -> list:
    """A live bed's stays as (bed, start, end): the current one if filled, and an earlier one
    for short-stay beds and for beds that are void now (void days count from when it ended)."""
    first = min(bed.live_from + timedelta(days=rng.randint(0, 28)), today)
    if filled and spec.contract_type not in SHORT_STAYS:
        return [(bed, first, None)]
    current = max(bed.live_from, today - timedelta(days=rng.randint(0, 42)))
    if not filled:
        current = today - timedelta(days=rng.randint(3, 40))
    earlier = []
    if (current - first).days > 14:
        earlier = [(bed, first, current - timedelta(days=rng.randint(1, 7)))]
    return earlier + ([(bed, current, None)] if filled else [])


def _case_reference(rng: random.Random) -> str:
    return f"LAS-{rng.randint(100000, 999999)}"


@transaction.atomic
def seed_block_contracts(stdout=None) -> list[BlockContract]:
    council = Organisation.objects.get(slug=COUNCIL_SLUG)
    existing = list(BlockContract.objects.filter(commissioner=council, reference__startswith=REFERENCE_PREFIX))
    if existing:
        return existing
    commissioner = User.objects.filter(organisation=council, role=Role.COMMISSIONER).order_by("id").first()
    broker = User.objects.filter(organisation=council, role=Role.BROKER).order_by("id").first()
    rng = random.Random(379)
    today = timezone.localdate()
    lots = {lot.number: lot for lot in Lot.objects.all()}
    used: set[int] = set()
    contracts: list[tuple[BlockContract, DemoContract]] = []
    placements: list[Placement] = []
    stays: list[tuple[BlockBed, date, date | None]] = []
    for number, spec in enumerate(CONTRACTS, start=1):
        home = _pick_home(rng, council, spec.lots, spec.beds, used)
        used.add(home.pk)
        start = today - timedelta(days=spec.started_days_ago)
        end = start + timedelta(days=365 * spec.years - 1)
        contract = block_contract_create(
            actor=commissioner,
            care_home=home,
            reference=f"{REFERENCE_PREFIX}{start.year}-{number:03d}",
            contract_type=spec.contract_type,
            lots=[lots[n] for n in spec.lots],
            number_of_beds=spec.beds,
            weekly_rate=spec.weekly_rate,
            start_date=start,
            end_date=end,
            uplift_basis=BlockContract.UpliftBasis.FIXED_ANNUAL
            if spec.contract_type == T.LONG_TERM
            else BlockContract.UpliftBasis.NEGOTIATED,
            uplift_percentage=Decimal("4.50") if spec.contract_type == T.LONG_TERM else None,
            uplift_rule=spec.uplift,
        )
        contracts.append((contract, spec))
        beds = list(contract.beds.order_by("label"))
        events = []
        for index, bed in enumerate(beds):
            if index < spec.live:
                # Beds mobilise over the first weeks of a contract.
                bed.live_from = min(start + timedelta(days=rng.randint(0, 21)), today)
            elif index < spec.live + spec.out_of_service or not spec.live_soon:
                bed.live_from = None
            else:
                bed.live_from = today + timedelta(days=rng.randint(3, 60))
            if bed.live_from is not None:
                events.append(
                    BedEvent(
                        bed=bed, kind=BedEvent.Kind.LIVE_DATE_SET, actor=commissioner, effective_date=bed.live_from
                    )
                )
            if index < spec.live:
                stays += _stays(rng, bed, spec, filled=index < spec.filled, today=today)
            if spec.live <= index < spec.live + spec.out_of_service:
                OutOfService.objects.create(
                    bed=bed,
                    start_date=today - timedelta(days=rng.randint(5, 30)),
                    reason="En-suite bathroom being refitted; the provider expects it back within six weeks.",
                )
        BlockBed.objects.bulk_update(beds, ["live_from"])
        BedEvent.objects.bulk_create(events)
        if stdout:
            stdout.write(f"  {contract.reference}: {spec.beds} beds at {home.name}")

    by_id = {contract.pk: (contract, spec) for contract, spec in contracts}
    target_days = {n: lot_rules_for(commissioner=council, lot=lots[n]).target_days for n in lots}
    for bed, start, end in stays:
        contract, spec = by_id[bed.contract_id]
        lot_number = rng.choice(spec.lots)
        requested = start - timedelta(days=rng.randint(1, 9))
        placements.append(
            Placement(
                commissioner=council,
                case_reference=_case_reference(rng),
                care_home=contract.care_home,
                lot=lots[lot_number],
                source=Placement.Source.BLOCK_BED,
                weekly_fee=contract.rate_on(start),
                council_weekly_amount=contract.rate_on(start),
                top_up_weekly_amount=Decimal("0.00"),
                start_date=start,
                end_date=end - timedelta(days=1) if end else None,
                in_county=contract.care_home.local_authority == council.local_authority,
                requested_at=_at_nine(requested),
                target_date=requested + timedelta(days=target_days[lot_number]),
                sourced_at=_at_nine(min(start, requested + timedelta(days=rng.randint(0, 6)))),
                created_by=broker,
            )
        )
    placements = Placement.objects.bulk_create(placements)
    occupancies = Occupancy.objects.bulk_create(
        Occupancy(
            bed=bed,
            placement=placement,
            start_date=start,
            end_date=end,
            end_reason="Moved to a long-term placement" if end else "",
        )
        for (bed, start, end), placement in zip(stays, placements, strict=True)
    )
    events = []
    for o in occupancies:
        events.append(
            BedEvent(bed=o.bed, kind=BedEvent.Kind.FILLED, actor=broker, effective_date=o.start_date, occupancy=o)
        )
        if o.end_date:
            events.append(
                BedEvent(
                    bed=o.bed,
                    kind=BedEvent.Kind.VOID,
                    actor=broker,
                    effective_date=o.end_date,
                    reason=o.end_reason,
                    occupancy=o,
                )
            )
    BedEvent.objects.bulk_create(sorted(events, key=lambda e: e.effective_date))
    _seed_request_with_block_offer(broker=broker, lot=lots[1], stdout=stdout)
    return [contract for contract, _ in contracts]


def _seed_request_with_block_offer(*, broker, lot, stdout=None) -> None:
    """A new request near a void lot-1 block bed, so the broker sees block beds offered first."""
    bed = next(
        (
            b
            for b in void_live_beds(commissioner_ids={broker.organisation_id}, at=timezone.localdate())
            if lot in b.contract.lots.all()
        ),
        None,
    )
    if bed is None:
        return
    home = bed.contract.care_home
    request = placement_request_create(
        actor=broker,
        case_reference=BLOCK_OFFER_CASE,
        lot=lot,
        needs_summary="Older person leaving hospital after a fall; needs help with washing, dressing and mobility.",
        needed_from=timezone.localdate() + timedelta(days=2),
        local_authority=home.local_authority,
        latitude=home.latitude,
        longitude=home.longitude,
        max_distance_km=Decimal("20"),
    )
    if stdout:
        stdout.write(f"  request {request.case_reference}: void block beds on offer, e.g. at {home.name}")


def _at_nine(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time(9, 0)))
