"""Reads of block contracts and beds, scoped to the user, and utilisation counted from rows.

A bed's state on a day follows from its rows alone:
- outside its contract's dates it is not counted;
- in an out-of-service period it is out of service;
- before `live_from` (or with none) it is contracted but not live;
- otherwise it is live: filled if an occupancy covers the day, else void.
So contracted = not yet live + out of service + live, and live = filled + void.
"""

import copy
import math
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal

from django.db import connection
from django.db.models import Exists, OuterRef, Prefetch, Q
from django.utils import timezone

from core.errors import NotFoundError
from placements.models import PlacementRequest
from providers.geo import EARTH_RADIUS_KM
from providers.models import Admission, CareHome
from quality.models import RatingValue

from .models import BedEvent, BlockBed, BlockContract, BlockOfferDecline, Occupancy, OutOfService

ONE_DAY = timedelta(days=1)
PENNY = Decimal("0.01")


class BedState:
    NOT_IN_CONTRACT = "not_in_contract"
    CONTRACTED = "contracted"
    OUT_OF_SERVICE = "out_of_service"
    FILLED = "filled"
    VOID = "void"

    LABELS = {
        NOT_IN_CONTRACT: "Outside contract dates",
        CONTRACTED: "Contracted, not yet live",
        OUT_OF_SERVICE: "Out of service",
        FILLED: "Filled",
        VOID: "Void",
    }


# Scoped reads -------------------------------------------------------------------------------


def block_contract_list(*, actor):
    """Council users see their body's contracts; provider users their organisation's."""
    if not (actor.is_authenticated and actor.organisation_id):
        return BlockContract.objects.none()
    if actor.is_council_user:
        scope = Q(commissioner_id=actor.organisation_id)
    elif actor.is_provider_user:
        scope = Q(provider_id=actor.organisation_id)
    else:
        return BlockContract.objects.none()
    return (
        BlockContract.objects.filter(scope)
        .select_related("commissioner", "provider", "care_home")
        .prefetch_related("lots")
        .order_by("care_home__name", "start_date", "id")
    )


def block_contract_get(*, actor, pk) -> BlockContract:
    contract = block_contract_list(actor=actor).filter(pk=pk).first()
    if contract is None:
        raise NotFoundError("No such block contract.")
    return contract


def block_fill_default_start(request: PlacementRequest) -> date:
    """The day a person moves into an offered block bed unless the broker says otherwise: the day
    they are needed from, or today when that has passed."""
    return max(request.needed_from, timezone.localdate())


def block_bed_get(*, actor, pk) -> BlockBed:
    contracts = block_contract_list(actor=actor)
    bed = (
        BlockBed.objects.filter(pk=pk, contract__in=contracts).select_related("contract", "contract__care_home").first()
    )
    if bed is None:
        raise NotFoundError("No such block bed.")
    return bed


def occupancy_get(*, actor, pk) -> Occupancy:
    contracts = block_contract_list(actor=actor)
    occupancy = (
        Occupancy.objects.filter(pk=pk, bed__contract__in=contracts)
        .select_related("bed", "bed__contract", "placement")
        .first()
    )
    if occupancy is None:
        raise NotFoundError("No such occupancy.")
    return occupancy


def bed_events(*, bed: BlockBed):
    return BedEvent.objects.filter(bed=bed).select_related("actor", "occupancy__placement")


def contracts_with_rows(queryset):
    """Contracts with their beds, occupancies, out-of-service periods and lots in four queries."""
    return queryset.prefetch_related(
        Prefetch(
            "beds",
            queryset=BlockBed.objects.order_by("id").prefetch_related(
                Prefetch("occupancies", queryset=Occupancy.objects.select_related("placement").order_by("start_date")),
                Prefetch("out_of_service_periods", queryset=OutOfService.objects.order_by("start_date")),
            ),
        ),
        "lots",
        "rates",
    )


def rate_segments(contract: BlockContract, start: date, end: date) -> list[tuple[date, date, Decimal]]:
    """(first day, last day, weekly rate) for each rate in force within [start, end], both ends
    inclusive; reads prefetched `rates`. Days before the first rate row take the first rate."""
    history = contract.rate_history()
    segments = []
    for index, rate in enumerate(history):
        rate_start = rate.effective_from if index else date.min
        rate_end = history[index + 1].effective_from - ONE_DAY if index + 1 < len(history) else date.max
        first, last = max(start, rate_start), min(end, rate_end)
        if first <= last:
            segments.append((first, last, rate.weekly_rate))
    return segments


def _cost_of_spans(contract: BlockContract, spans) -> Decimal:
    """Bed-days in half-open spans at the rate of each day, / 7, rounded to the penny once."""
    weekly_days = Decimal(0)
    for start, end in spans:
        for first, last, rate in rate_segments(contract, start, end - ONE_DAY):
            weekly_days += rate * ((last - first).days + 1)
    return (weekly_days / 7).quantize(PENNY, ROUND_HALF_UP)


# Bed state from rows ------------------------------------------------------------------------


def _covers(start: date, end: date | None, day: date) -> bool:
    return start <= day and (end is None or day < end)


def bed_state(bed: BlockBed, at: date) -> str:
    """The bed's state on `at`; reads prefetched occupancies and periods when present."""
    contract = bed.contract
    if not (contract.start_date <= at <= contract.end_date):
        return BedState.NOT_IN_CONTRACT
    if any(_covers(p.start_date, p.end_date, at) for p in bed.out_of_service_periods.all()):
        return BedState.OUT_OF_SERVICE
    if bed.live_from is None or bed.live_from > at:
        return BedState.CONTRACTED
    if any(_covers(o.start_date, o.end_date, at) for o in bed.occupancies.all()):
        return BedState.FILLED
    return BedState.VOID


def current_occupancy(bed: BlockBed, at: date) -> Occupancy | None:
    return next((o for o in bed.occupancies.all() if _covers(o.start_date, o.end_date, at)), None)


def open_out_of_service(bed: BlockBed, at: date) -> OutOfService | None:
    return next((p for p in bed.out_of_service_periods.all() if p.end_date is None or p.end_date > at), None)


# Interval arithmetic over half-open [start, end) day spans ----------------------------------


def _subtract(spans: list[tuple[date, date]], holes: list[tuple[date, date]]) -> list[tuple[date, date]]:
    result = spans
    for hole_start, hole_end in holes:
        cut = []
        for start, end in result:
            if hole_end <= start or hole_start >= end:
                cut.append((start, end))
                continue
            if start < hole_start:
                cut.append((start, hole_start))
            if hole_end < end:
                cut.append((hole_end, end))
        result = cut
    return result


def _intersect(spans: list[tuple[date, date]], others: list[tuple[date, date]]) -> list[tuple[date, date]]:
    result = []
    for start, end in spans:
        for other_start, other_end in others:
            lo, hi = max(start, other_start), min(end, other_end)
            if lo < hi:
                result.append((lo, hi))
    return result


def _days(spans) -> int:
    return sum((end - start).days for start, end in spans)


def _rows_as_spans(rows, horizon: date) -> list[tuple[date, date]]:
    return [(row.start_date, row.end_date or horizon) for row in rows]


def bed_live_spans(bed: BlockBed, date_from: date, date_to: date) -> tuple[list, list]:
    """(filled spans, void spans) of the bed within [date_from, date_to], both half-open."""
    contract = bed.contract
    if bed.live_from is None:
        return [], []
    start = max(date_from, contract.start_date, bed.live_from)
    end = min(date_to, contract.end_date) + ONE_DAY
    if start >= end:
        return [], []
    live = _subtract([(start, end)], _rows_as_spans(bed.out_of_service_periods.all(), end))
    occupied = _rows_as_spans(bed.occupancies.all(), end)
    return _intersect(live, occupied), _subtract(live, occupied)


# Utilisation --------------------------------------------------------------------------------


@dataclass
class Counts:
    contracted: int = 0
    not_yet_live: int = 0
    out_of_service: int = 0
    live: int = 0
    filled: int = 0
    void: int = 0
    live_bed_days: int = 0
    filled_bed_days: int = 0
    void_bed_days: int = 0
    void_cost: Decimal = Decimal("0.00")

    def add_state(self, state: str) -> None:
        if state == BedState.NOT_IN_CONTRACT:
            return
        self.contracted += 1
        if state == BedState.CONTRACTED:
            self.not_yet_live += 1
        elif state == BedState.OUT_OF_SERVICE:
            self.out_of_service += 1
        else:
            self.live += 1
            if state == BedState.FILLED:
                self.filled += 1
            else:
                self.void += 1

    def add(self, other: "Counts") -> None:
        for name in self.__dataclass_fields__:
            setattr(self, name, getattr(self, name) + getattr(other, name))

    @property
    def occupancy_rate(self) -> Decimal | None:
        """Filled bed-days as a share of live bed-days over the range, per cent."""
        if not self.live_bed_days:
            return None
        return (Decimal(100) * self.filled_bed_days / self.live_bed_days).quantize(Decimal("0.1"), ROUND_HALF_UP)


@dataclass
class ContractUtilisation:
    contract: BlockContract
    counts: Counts


@dataclass
class LotUtilisation:
    lot: object
    counts: Counts


@dataclass
class Period:
    start: date
    end: date
    live_bed_days: int = 0
    filled_bed_days: int = 0

    @property
    def void_bed_days(self) -> int:
        return self.live_bed_days - self.filled_bed_days

    @property
    def occupancy_rate(self) -> Decimal | None:
        if not self.live_bed_days:
            return None
        return (Decimal(100) * self.filled_bed_days / self.live_bed_days).quantize(Decimal("0.1"), ROUND_HALF_UP)


@dataclass
class Utilisation:
    at: date
    date_from: date
    date_to: date
    overall: Counts = field(default_factory=Counts)
    contracts: list[ContractUtilisation] = field(default_factory=list)
    lots: list[LotUtilisation] = field(default_factory=list)
    periods: list[Period] = field(default_factory=list)


def _month_periods(date_from: date, date_to: date) -> list[Period]:
    periods = []
    start = date_from
    while start <= date_to:
        next_month = (start.replace(day=1) + timedelta(days=32)).replace(day=1)
        end = min(next_month - ONE_DAY, date_to)
        periods.append(Period(start=start, end=end))
        start = end + ONE_DAY
    return periods


def _add_spans_to_periods(periods: list[Period], spans, attribute: str) -> None:
    for start, end in spans:
        for period in periods:
            lo, hi = max(start, period.start), min(end, period.end + ONE_DAY)
            if lo < hi:
                setattr(period, attribute, getattr(period, attribute) + (hi - lo).days)


def utilisation(*, commissioner, at: date, date_from: date, date_to: date, contracts=None) -> Utilisation:
    """Counts as at `at`, and bed-days, void cost and monthly occupancy over [date_from, date_to].

    Void cost is each void bed-day at the contract's weekly rate in force that day / 7, rounded
    to the penny per contract. A contract serving several lots counts under each of those lots, so the lot
    rows can add up to more than the total.
    """
    if date_to < date_from:
        raise ValueError("date_to is before date_from")
    queryset = contracts if contracts is not None else BlockContract.objects.all()
    queryset = queryset.filter(commissioner=commissioner).filter(
        Q(start_date__lte=at, end_date__gte=at) | Q(start_date__lte=date_to, end_date__gte=date_from)
    )
    result = Utilisation(at=at, date_from=date_from, date_to=date_to, periods=_month_periods(date_from, date_to))
    by_lot: dict[int, LotUtilisation] = {}
    for contract in contracts_with_rows(queryset.select_related("care_home", "provider")):
        counts = Counts()
        void_spans = []
        for bed in contract.beds.all():
            bed.contract = contract
            counts.add_state(bed_state(bed, at))
            filled, void = bed_live_spans(bed, date_from, date_to)
            counts.filled_bed_days += _days(filled)
            counts.void_bed_days += _days(void)
            void_spans += void
            _add_spans_to_periods(result.periods, filled, "filled_bed_days")
            _add_spans_to_periods(result.periods, filled + void, "live_bed_days")
        counts.live_bed_days = counts.filled_bed_days + counts.void_bed_days
        counts.void_cost = _cost_of_spans(contract, void_spans)
        result.contracts.append(ContractUtilisation(contract=contract, counts=counts))
        result.overall.add(counts)
        for lot in contract.lots.all():
            by_lot.setdefault(lot.number, LotUtilisation(lot=lot, counts=Counts())).counts.add(counts)
    result.lots = [by_lot[number] for number in sorted(by_lot)]
    return result


@dataclass
class VoidCost:
    """What a block contract still costs from a day to its end if every bed stands empty."""

    live_beds: int
    weekly_cost: Decimal
    days: int
    cost_to_end: Decimal


def void_cost_to_end(contract: BlockContract, from_day: date) -> VoidCost:
    """The beds in payment on `from_day`, their weekly cost then, and the cost of every live bed-day
    from `from_day` to the contract's end: the price of beds left void when a home's residents
    move out (reads prefetched rows: `contracts_with_rows`)."""
    live_beds, weekly_cost, spans = 0, Decimal("0.00"), []
    for bed in contract.beds.all():
        bed.contract = contract
        filled, void = bed_live_spans(bed, from_day, contract.end_date)
        spans.extend(filled + void)
        if bed_state(bed, from_day) in (BedState.FILLED, BedState.VOID):
            live_beds += 1
            weekly_cost += contract.rate_on(from_day) or Decimal("0.00")
    days = max((contract.end_date - from_day).days + 1, 0)
    return VoidCost(
        live_beds=live_beds, weekly_cost=weekly_cost, days=days, cost_to_end=_cost_of_spans(contract, spans)
    )


def counts_by_contract(contracts, at: date) -> dict[int, Counts]:
    """Bed counts as at `at` for each of the given (prefetched) contracts."""
    result = defaultdict(Counts)
    for contract in contracts:
        for bed in contract.beds.all():
            bed.contract = contract
            result[contract.pk].add_state(bed_state(bed, at))
    return result


# Block first --------------------------------------------------------------------------------


def void_live_beds(*, commissioner_ids, at: date) -> list[BlockBed]:
    """Beds of these commissioners that are live, in service and free from `at` on, in homes
    that may take new placements (registered, not suspended, not rated Inadequate)."""
    busy = Occupancy.objects.filter(bed=OuterRef("pk")).filter(Q(end_date__isnull=True) | Q(end_date__gt=at))
    out = OutOfService.objects.filter(bed=OuterRef("pk")).filter(Q(end_date__isnull=True) | Q(end_date__gt=at))
    suspended = Admission.objects.filter(
        commissioner_id=OuterRef("contract__commissioner_id"),
        care_home=OuterRef("contract__care_home"),
        status=Admission.Status.SUSPENDED,
    )
    return list(
        BlockBed.objects.filter(
            contract__commissioner_id__in=commissioner_ids,
            contract__start_date__lte=at,
            contract__end_date__gte=at,
            contract__care_home__registration_status=CareHome.RegistrationStatus.REGISTERED,
            live_from__lte=at,
        )
        .exclude(Exists(busy) | Exists(out) | Exists(suspended))
        .exclude(contract__care_home__current_rating__overall=RatingValue.INADEQUATE)
        .select_related("contract", "contract__care_home", "contract__provider")
        .prefetch_related("contract__lots", "contract__care_home__specialisms", "contract__rates")
    )


def _distance_km(request: PlacementRequest, home: CareHome) -> float | None:
    """Great-circle distance by the same formula the database searches use."""
    if None in (request.latitude, request.longitude, home.latitude, home.longitude):
        return None
    lat0, lng0 = math.radians(request.latitude), math.radians(request.longitude)
    lat1, lng1 = math.radians(home.latitude), math.radians(home.longitude)
    cosine = math.sin(lat0) * math.sin(lat1) + math.cos(lat0) * math.cos(lat1) * math.cos(lng1 - lng0)
    return math.acos(min(max(cosine, -1.0), 1.0)) * EARTH_RADIUS_KM


# The beds that may fit each request, apart from its area: first the void beds live on the day
# of the requests' bodies' running contracts, in registered homes that the body has not suspended
# and CQC has not rated Inadequate (the rules of `void_live_beds`); then, per request, those whose
# contract serves its lot and whose home offers every specialism it asks for. The two steps are
# planned apart, which keeps planning this many tables cheap.
FITTING_BEDS_SQL = """
WITH asked AS MATERIALIZED (
  SELECT id, commissioner_id, lot_id FROM placements_placementrequest WHERE id IN ({requests})
), void AS MATERIALIZED (
  SELECT b.id, b.contract_id, c.commissioner_id, c.care_home_id
  FROM blockbeds_blockbed b
  JOIN blockbeds_blockcontract c ON c.id = b.contract_id
  JOIN providers_carehome h ON h.id = c.care_home_id
  WHERE c.commissioner_id IN (SELECT commissioner_id FROM asked)
    AND c.start_date <= %(at)s AND c.end_date >= %(at)s
    AND b.live_from <= %(at)s
    AND h.registration_status = %(registered)s
    AND NOT EXISTS (SELECT 1 FROM quality_rating q WHERE q.id = h.current_rating_id AND q.overall = %(inadequate)s)
    AND NOT EXISTS (SELECT 1 FROM blockbeds_occupancy o
                    WHERE o.bed_id = b.id AND (o.end_date IS NULL OR o.end_date > %(at)s))
    AND NOT EXISTS (SELECT 1 FROM blockbeds_outofservice s
                    WHERE s.bed_id = b.id AND (s.end_date IS NULL OR s.end_date > %(at)s))
    AND NOT EXISTS (SELECT 1 FROM providers_admission a
                    WHERE a.commissioner_id = c.commissioner_id AND a.care_home_id = c.care_home_id
                      AND a.status = %(suspended)s)
)
SELECT r.id, void.id
FROM asked r JOIN void ON void.commissioner_id = r.commissioner_id
WHERE EXISTS (SELECT 1 FROM blockbeds_blockcontract_lots cl
              WHERE cl.blockcontract_id = void.contract_id AND cl.lot_id = r.lot_id)
  AND NOT EXISTS (SELECT 1 FROM placements_placementrequest_specialisms rs
                  WHERE rs.placementrequest_id = r.id
                    AND NOT EXISTS (SELECT 1 FROM providers_carehome_specialisms hs
                                    WHERE hs.carehome_id = void.care_home_id AND hs.specialism_id = rs.specialism_id))
"""


def _in_area(request: PlacementRequest, home: CareHome, distance: float | None) -> bool:
    """In the request's local authority, or within its distance of its location, as tenders count it."""
    has_area = bool(request.local_authority) or request.max_distance_km is not None
    in_authority = bool(request.local_authority) and home.local_authority.lower() == request.local_authority.lower()
    in_reach = (
        distance is not None and request.max_distance_km is not None and distance <= float(request.max_distance_km)
    )
    return in_authority or in_reach or not has_area


def block_offers(*, requests, at: date | None = None) -> dict[int, list[BlockBed]]:
    """For each request, the void live block beds that fit it, nearest (then cheapest) first.

    A bed fits when its contract serves the request's lot, its home offers every specialism
    asked for and is in the request's area (in its local authority, or within its distance
    of its location, as tenders count it), and the home may take new placements. Beds carry
    `distance_km` from the request's location. Two queries serve a whole page of requests:
    the matching in the database, then the matched beds.
    """
    requests = list(requests)
    if not requests:
        return {}
    with connection.cursor() as cursor:
        ids = {f"request_{number}": r.pk for number, r in enumerate(requests)}
        cursor.execute(
            FITTING_BEDS_SQL.format(requests=", ".join(f"%({name})s" for name in ids)),
            {
                **ids,
                "at": at or timezone.localdate(),
                "registered": CareHome.RegistrationStatus.REGISTERED,
                "inadequate": RatingValue.INADEQUATE,
                "suspended": Admission.Status.SUSPENDED,
            },
        )
        pairs = cursor.fetchall()
    beds = {}
    if pairs:
        beds = (
            BlockBed.objects.select_related("contract", "contract__care_home", "contract__provider")
            .prefetch_related("contract__rates")
            .in_bulk({bed_id for _, bed_id in pairs})
        )
    matched = defaultdict(list)
    for request_id, bed_id in pairs:
        matched[request_id].append(beds[bed_id])
    offers: dict[int, list[BlockBed]] = {}
    for request in requests:
        fitting = []
        for bed in matched[request.pk]:
            distance = _distance_km(request, bed.contract.care_home)
            if _in_area(request, bed.contract.care_home, distance):
                offered = copy.copy(bed)
                offered.distance_km = distance
                fitting.append(offered)
        fitting.sort(
            key=lambda b: (
                b.distance_km is None,
                b.distance_km or 0,
                b.contract.weekly_rate,
                b.contract.care_home.name,
                b.pk,
            )
        )
        offers[request.pk] = fitting
    return offers


def fitting_void_beds(*, request: PlacementRequest, at: date | None = None) -> list[BlockBed]:
    """The void live block beds that fit one request (see `block_offers`)."""
    return block_offers(requests=[request], at=at)[request.pk]


@dataclass
class BlockOffer:
    """What a request's page and API show: the beds on offer, or the broker's decline."""

    beds: list[BlockBed]
    decline: BlockOfferDecline | None

    @property
    def pending(self) -> bool:
        """A fitting bed is on offer and not declined: the request may not go to tender yet."""
        return bool(self.beds) and self.decline is None


def block_offer_summaries(*, requests, at: date | None = None) -> dict[int, BlockOffer]:
    """The block-bed offer of each request: beds only while the request is new and undeclined."""
    requests = list(requests)
    declines = {
        d.request_id: d
        for d in BlockOfferDecline.objects.filter(request__in=[r.pk for r in requests]).select_related("declined_by")
    }
    open_requests = [r for r in requests if r.status == PlacementRequest.Status.NEW and r.pk not in declines]
    offers = block_offers(requests=open_requests, at=at)
    return {r.pk: BlockOffer(beds=offers.get(r.pk, []), decline=declines.get(r.pk)) for r in requests}
