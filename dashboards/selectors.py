"""Dashboard figures for one commissioning body, each computed by a fixed number of grouped queries.

Every report is a plain object with `as_json()` (what the API and the export command return),
`csv_header()` and `csv_rows()`. Whoever asks, the commissioning body comes from
`dashboard_commissioner(actor)`, so a user only ever sees their own body's figures.
"""

import math
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal
from zoneinfo import ZoneInfo

from django.core.exceptions import PermissionDenied
from django.db.models import Count, Exists, F, IntegerField, OuterRef, Q, Subquery, Sum, Value
from django.db.models.functions import Coalesce, Least, TruncDate, TruncMonth
from django.utils import timezone

from bidding.models import Award, Bid, Tender
from contracts.models import FeePeriod
from lots.models import ClientGroup, Lot, LotRules, Setting
from organisations.models import COMMISSIONING_ROLES, Organisation, Role
from placements.models import Placement, PlacementRequest
from providers.models import Admission, CareHome
from quality.models import RatingValue

from .models import TimelinessMonth

LONDON = ZoneInfo("Europe/London")
ONE_DECIMAL = Decimal("0.1")
PENNY = Decimal("0.01")
MAX_MONTHS = 120
AT_RISK_DAYS = 2

# The order the council's published tables use.
CLIENT_GROUPS = [
    ClientGroup.OLDER_PEOPLE,
    ClientGroup.PHYSICAL_DISABILITY,
    ClientGroup.LEARNING_DISABILITY,
    ClientGroup.MENTAL_HEALTH,
]

# A tender's bid amounts may be reported only once its window has closed.
CLOSED_TENDER_STATES = [
    Tender.Status.CLOSED,
    Tender.Status.EVALUATED,
    Tender.Status.AWARDED,
    Tender.Status.NO_BIDS,
]
COUNTED_BID_STATES = [Bid.Status.SUBMITTED, Bid.Status.EXCLUDED]
OPEN_REQUEST_STATES = [
    PlacementRequest.Status.NEW,
    PlacementRequest.Status.TENDERING,
    PlacementRequest.Status.AWARDED,
]


def dashboard_commissioner(actor, *, roles=(Role.COMMISSIONER,)) -> Organisation:
    """The commissioning body whose figures `actor` may read; anyone else is refused."""
    organisation = actor.organisation if actor.is_authenticated and actor.organisation_id else None
    if organisation is None or not organisation.is_commissioning_body:
        raise PermissionDenied("Dashboards are for commissioning bodies.")
    allowed = set(roles)
    if getattr(actor, "is_service_account", False):
        allowed |= set(COMMISSIONING_ROLES)
    if actor.role not in allowed:
        raise PermissionDenied("Your role cannot read this dashboard.")
    return organisation


def percent(part: int, whole: int) -> Decimal | None:
    """Per cent to one decimal place, half rounded up; None when there is nothing to divide."""
    if not whole:
        return None
    return (Decimal(part) * 100 / Decimal(whole)).quantize(ONE_DECIMAL, rounding=ROUND_HALF_UP)


def money(value) -> Decimal | None:
    if value is None:
        return None
    return Decimal(str(value)).quantize(PENNY, rounding=ROUND_HALF_UP)


def as_text(value) -> str | None:
    return None if value is None else str(value)


def month_label(month: date) -> str:
    return month.strftime("%Y-%m")


def months_between(month_from: date, month_to: date) -> list[date]:
    months = []
    year, month = month_from.year, month_from.month
    while (year, month) <= (month_to.year, month_to.month):
        months.append(date(year, month, 1))
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return months


def next_month(month: date) -> date:
    return date(month.year + 1, 1, 1) if month.month == 12 else date(month.year, month.month + 1, 1)


def london_midnight(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=LONDON)


def default_month_range(today: date | None = None) -> tuple[date, date]:
    today = today or timezone.localdate()
    last = today.replace(day=1)
    first = date(last.year - 1, last.month, 1)
    return next_month(first), last


# Timeliness ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class TimelinessCell:
    sourced: int = 0
    within_target: int = 0

    @property
    def percent(self) -> Decimal | None:
        return percent(self.within_target, self.sourced)

    def below(self, target: Decimal) -> bool:
        return self.percent is not None and self.percent < target

    def plus(self, other: "TimelinessCell") -> "TimelinessCell":
        return TimelinessCell(self.sourced + other.sourced, self.within_target + other.within_target)

    def as_json(self) -> dict:
        return {"sourced": self.sourced, "within_target": self.within_target, "percent": as_text(self.percent)}


@dataclass
class TimelinessRow:
    month: date
    cells: list[TimelinessCell]
    total: TimelinessCell


@dataclass
class Timeliness:
    month_from: date
    month_to: date
    target_percent: Decimal
    lots: list[Lot]
    rows: list[TimelinessRow]
    lot_totals: list[TimelinessCell]
    total: TimelinessCell

    def as_json(self) -> dict:
        return {
            "from": month_label(self.month_from),
            "to": month_label(self.month_to),
            "target_percent": str(self.target_percent),
            "lots": [{"number": lot.number, "name": lot.name} for lot in self.lots],
            "months": [
                {
                    "month": month_label(row.month),
                    "lots": [
                        {"lot": lot.number, **cell.as_json()} for lot, cell in zip(self.lots, row.cells, strict=True)
                    ],
                    "total": row.total.as_json(),
                }
                for row in self.rows
            ],
            "lot_totals": [
                {"lot": lot.number, **cell.as_json()} for lot, cell in zip(self.lots, self.lot_totals, strict=True)
            ],
            "total": self.total.as_json(),
        }

    def csv_header(self) -> list[str]:
        header = ["month"]
        for lot in self.lots:
            header += [f"lot {lot.number} sourced", f"lot {lot.number} within target", f"lot {lot.number} %"]
        return [*header, "total sourced", "total within target", "total %"]

    def csv_rows(self):
        def flat(cells):
            for cell in cells:
                yield from (cell.sourced, cell.within_target, as_text(cell.percent) or "")

        for row in self.rows:
            yield [month_label(row.month), *flat([*row.cells, row.total])]
        yield ["total", *flat([*self.lot_totals, self.total])]


def timeliness_live_counts(*, commissioner: Organisation, month_from: date, month_to: date):
    """Sourced and within-target counts per month and lot, aggregated from the placements."""
    return (
        Placement.objects.live()
        .filter(
            commissioner=commissioner,
            sourced_at__gte=london_midnight(month_from),
            sourced_at__lt=london_midnight(next_month(month_to)),
        )
        .annotate(
            month=TruncMonth("sourced_at", tzinfo=LONDON),
            sourced_day=TruncDate("sourced_at", tzinfo=LONDON),
        )
        .values("month", "lot__number")
        .annotate(sourced=Count("id"), within_target=Count("id", filter=Q(sourced_day__lte=F("target_date"))))
        .order_by()
    )


def timeliness_summary_counts(*, commissioner: Organisation, month_from: date, month_to: date):
    """The same counts from the summary the database keeps (PostgreSQL: see `TimelinessMonth`)."""
    return (
        TimelinessMonth.objects.filter(
            commissioner=commissioner, month__gte=month_from, month__lte=month_to, sourced__gt=0
        )
        .values("month", "lot__number", "sourced", "within_target")
        .order_by()
    )


def timeliness(*, commissioner: Organisation, month_from: date, month_to: date) -> Timeliness:
    """Placements sourced per month (Europe/London) and lot, and how many by their target date."""
    lots = list(Lot.objects.order_by("number"))
    grouped = timeliness_summary_counts(commissioner=commissioner, month_from=month_from, month_to=month_to)
    counts = {}
    for entry in grouped:
        month = entry["month"]
        month = month.astimezone(LONDON).date() if isinstance(month, datetime) else month
        counts[(month, entry["lot__number"])] = TimelinessCell(entry["sourced"], entry["within_target"])
    rows = []
    lot_totals = [TimelinessCell() for _ in lots]
    for month in months_between(month_from, month_to):
        cells = [counts.get((month, lot.number), TimelinessCell()) for lot in lots]
        row_total = TimelinessCell()
        for index, cell in enumerate(cells):
            row_total = row_total.plus(cell)
            lot_totals[index] = lot_totals[index].plus(cell)
        rows.append(TimelinessRow(month=month, cells=cells, total=row_total))
    total = TimelinessCell()
    for cell in lot_totals:
        total = total.plus(cell)
    return Timeliness(
        month_from=month_from,
        month_to=month_to,
        target_percent=commissioner.timeliness_target_percent,
        lots=lots,
        rows=rows,
        lot_totals=lot_totals,
        total=total,
    )


# Placements by client group (active on a date) ------------------------------------------------


def _active_on(day: date) -> Q:
    return Q(start_date__lte=day) & (Q(end_date__isnull=True) | Q(end_date__gte=day))


def _active_in(first: date, last: date) -> Q:
    return Q(start_date__lte=last) & (Q(end_date__isnull=True) | Q(end_date__gte=first))


@dataclass
class ClientGroupCount:
    client_group: str
    label: str
    in_county: int
    out_of_county: int

    @property
    def total(self) -> int:
        return self.in_county + self.out_of_county

    def as_json(self) -> dict:
        return {
            "client_group": self.client_group,
            "label": self.label,
            "in_county": self.in_county,
            "out_of_county": self.out_of_county,
            "total": self.total,
        }


@dataclass
class PlacementsByClientGroup:
    at: date
    rows: list[ClientGroupCount]
    total: ClientGroupCount

    def as_json(self) -> dict:
        return {
            "at": self.at.isoformat(),
            "client_groups": [r.as_json() for r in self.rows],
            "total": self.total.as_json(),
        }

    def csv_header(self) -> list[str]:
        return ["client group", "in county", "out of county", "total"]

    def csv_rows(self):
        for row in [*self.rows, self.total]:
            yield [row.label, row.in_county, row.out_of_county, row.total]


def placements_by_client_group(*, commissioner: Organisation, at: date) -> PlacementsByClientGroup:
    grouped = (
        Placement.objects.live()
        .filter(_active_on(at), commissioner=commissioner)
        .values("lot__client_group", "in_county")
        .annotate(n=Count("id"))
        .order_by()
    )
    counts = {(e["lot__client_group"], e["in_county"]): e["n"] for e in grouped}
    rows = [
        ClientGroupCount(
            group.value, group.label, counts.get((group.value, True), 0), counts.get((group.value, False), 0)
        )
        for group in CLIENT_GROUPS
    ]
    total = ClientGroupCount("total", "Total", sum(r.in_county for r in rows), sum(r.out_of_county for r in rows))
    return PlacementsByClientGroup(at=at, rows=rows, total=total)


# Mean gross weekly cost ----------------------------------------------------------------------


@dataclass
class CostCell:
    placements: int
    fees: Decimal

    @property
    def mean(self) -> Decimal | None:
        return money(self.fees / self.placements) if self.placements else None

    def as_json(self) -> dict:
        return {"placements": self.placements, "mean_weekly_cost": as_text(self.mean)}


@dataclass
class MeanWeeklyCost:
    month_from: date
    month_to: date
    months: list[date]
    groups: list[tuple[str, str]]
    # cells[month index][group index]; totals[month index] covers every client group.
    cells: list[list[CostCell]]
    totals: list[CostCell]

    @property
    def rows(self) -> list[tuple[date, list[CostCell], CostCell]]:
        return list(zip(self.months, self.cells, self.totals, strict=True))

    def as_json(self) -> dict:
        return {
            "from": month_label(self.month_from),
            "to": month_label(self.month_to),
            "months": [
                {
                    "month": month_label(month),
                    "client_groups": [
                        {"client_group": value, "label": label, **cell.as_json()}
                        for (value, label), cell in zip(self.groups, cells, strict=True)
                    ],
                    "total": total.as_json(),
                }
                for month, cells, total in zip(self.months, self.cells, self.totals, strict=True)
            ],
        }

    def csv_header(self) -> list[str]:
        return ["month", *(label for _, label in self.groups), "all client groups"]

    def csv_rows(self):
        for month, cells, total in zip(self.months, self.cells, self.totals, strict=True):
            yield [month_label(month), *(as_text(c.mean) or "" for c in [*cells, total])]


def _fee_on_last_day_in(month: date, last: date):
    """The weekly fee in force on a placement's last day in the month (the month's last day, or
    the day the placement ended): from its fee history once it has one, else its agreed fee."""
    day = Least(Value(last), Coalesce(OuterRef("end_date"), Value(last)))
    in_force = (
        FeePeriod.objects.filter(placement_id=OuterRef("pk"), effective_from__lte=day)
        .order_by("-effective_from")
        .values("weekly_fee")[:1]
    )
    return Coalesce(Subquery(in_force), F("weekly_fee"))


def mean_weekly_cost(*, commissioner: Organisation, month_from: date, month_to: date) -> MeanWeeklyCost:
    """Mean gross weekly fee of the placements active at any time in each month, each at the fee
    in force on its last day in that month, so uplifts and fee changes count from their date.

    One grouped query with a pair of filtered aggregates per month. Imported history without
    a known fee is stored with a zero fee and left out of the means.
    """
    months = months_between(month_from, month_to)
    aggregates = {}
    for index, month in enumerate(months):
        last = next_month(month) - timedelta(days=1)
        active = _active_in(month, last)
        aggregates[f"n{index}"] = Count("id", filter=active)
        aggregates[f"fees{index}"] = Sum(_fee_on_last_day_in(month, last), filter=active)
    grouped = {
        entry["lot__client_group"]: entry
        for entry in Placement.objects.live()
        .filter(commissioner=commissioner, weekly_fee__gt=0)
        .filter(_active_in(month_from, next_month(month_to) - timedelta(days=1)))
        .values("lot__client_group")
        .annotate(**aggregates)
        .order_by()
    }
    groups = [(group.value, group.label) for group in CLIENT_GROUPS]
    cells, totals = [], []
    for index in range(len(months)):
        row = []
        for value, _ in groups:
            entry = grouped.get(value, {})
            row.append(CostCell(entry.get(f"n{index}", 0), Decimal(str(entry.get(f"fees{index}") or 0))))
        cells.append(row)
        totals.append(CostCell(sum(c.placements for c in row), sum((c.fees for c in row), Decimal(0))))
    return MeanWeeklyCost(month_from, month_to, months, groups, cells, totals)


# CQC rating mix of homes on the DPS ----------------------------------------------------------

RATING_ORDER = [
    RatingValue.OUTSTANDING,
    RatingValue.GOOD,
    RatingValue.REQUIRES_IMPROVEMENT,
    RatingValue.INADEQUATE,
    RatingValue.NOT_RATED,
]


@dataclass
class RatingMixRow:
    setting: str
    label: str
    counts: dict[str, int]

    @property
    def homes(self) -> int:
        return sum(self.counts.values())

    @property
    def ordered_counts(self) -> list[int]:
        return [self.counts[value] for value in RATING_ORDER]

    @property
    def rated(self) -> int:
        return self.homes - self.counts[RatingValue.NOT_RATED]

    @property
    def good_or_outstanding(self) -> int:
        return self.counts[RatingValue.OUTSTANDING] + self.counts[RatingValue.GOOD]

    @property
    def share_good_or_outstanding(self) -> Decimal | None:
        return percent(self.good_or_outstanding, self.rated)

    def as_json(self) -> dict:
        return {
            "setting": self.setting,
            "label": self.label,
            "homes": self.homes,
            "ratings": {value.label: self.counts[value] for value in RATING_ORDER},
            "rated": self.rated,
            "outstanding_or_good": self.good_or_outstanding,
            "percent_outstanding_or_good": as_text(self.share_good_or_outstanding),
        }


@dataclass
class RatingMix:
    rows: list[RatingMixRow]
    labels = [value.label for value in RATING_ORDER]

    def as_json(self) -> dict:
        return {"settings": [row.as_json() for row in self.rows]}

    def csv_header(self) -> list[str]:
        return ["setting", "homes", *(value.label for value in RATING_ORDER), "% outstanding or good of rated"]

    def csv_rows(self):
        for row in self.rows:
            yield [
                row.label,
                row.homes,
                *(row.counts[value] for value in RATING_ORDER),
                as_text(row.share_good_or_outstanding) or "",
            ]


def rating_mix(*, commissioner: Organisation) -> RatingMix:
    """Current CQC ratings of the homes admitted to at least one of the body's lots.

    The share counts rated homes only, as the CQC's own market figures do.
    """
    on_dps = Admission.objects.filter(
        commissioner=commissioner, care_home=OuterRef("pk"), status=Admission.Status.ADMITTED
    )
    rated_as = {
        value: Q(current_rating__overall=value)
        if value != RatingValue.NOT_RATED
        else Q(current_rating__isnull=True) | Q(current_rating__overall=value)
        for value in RATING_ORDER
    }
    settings = [(Setting.RESIDENTIAL, Q(provides_residential=True)), (Setting.NURSING, Q(provides_nursing=True))]
    aggregates = {
        f"{setting.value}_{index}": Count("id", filter=condition & rated_as[value])
        for setting, condition in settings
        for index, value in enumerate(RATING_ORDER)
    }
    result = CareHome.objects.filter(Exists(on_dps)).aggregate(**aggregates)
    rows = [
        RatingMixRow(
            setting.value,
            setting.label,
            {value: result[f"{setting.value}_{index}"] for index, value in enumerate(RATING_ORDER)},
        )
        for setting, _ in settings
    ]
    return RatingMix(rows)


# Bids per tender and no-bid rate -------------------------------------------------------------


@dataclass
class BidsRow:
    lot: Lot
    tenders: int
    bids: int
    no_bid_tenders: int

    @property
    def bids_per_tender(self) -> Decimal | None:
        if not self.tenders:
            return None
        return (Decimal(self.bids) / self.tenders).quantize(ONE_DECIMAL, rounding=ROUND_HALF_UP)

    @property
    def no_bid_rate(self) -> Decimal | None:
        return percent(self.no_bid_tenders, self.tenders)

    def as_json(self) -> dict:
        return {
            "lot": self.lot.number,
            "tenders": self.tenders,
            "bids": self.bids,
            "bids_per_tender": as_text(self.bids_per_tender),
            "no_bid_tenders": self.no_bid_tenders,
            "no_bid_percent": as_text(self.no_bid_rate),
        }


@dataclass
class BidsPerTender:
    month_from: date
    month_to: date
    rows: list[BidsRow]
    total: BidsRow

    def as_json(self) -> dict:
        total = self.total.as_json()
        total.pop("lot")
        return {
            "from": month_label(self.month_from),
            "to": month_label(self.month_to),
            "lots": [row.as_json() for row in self.rows],
            "total": total,
        }

    def csv_header(self) -> list[str]:
        return ["lot", "closed tenders", "bids", "bids per tender", "tenders with no bids", "% with no bids"]

    def csv_rows(self):
        for row in [*self.rows, self.total]:
            yield [
                row.lot.number if row.lot.pk else "total",
                row.tenders,
                row.bids,
                as_text(row.bids_per_tender) or "",
                row.no_bid_tenders,
                as_text(row.no_bid_rate) or "",
            ]


def bids_per_tender(*, commissioner: Organisation, month_from: date, month_to: date) -> BidsPerTender:
    """Closed tenders by the month their window closed: bids received and tenders with none."""
    bid_count = (
        Bid.objects.filter(tender=OuterRef("pk"), status__in=COUNTED_BID_STATES)
        .order_by()
        .values("tender")
        .annotate(n=Count("id"))
        .values("n")
    )
    grouped = (
        Tender.objects.filter(
            request__commissioner=commissioner,
            status__in=CLOSED_TENDER_STATES,
            closes_at__gte=london_midnight(month_from),
            closes_at__lt=london_midnight(next_month(month_to)),
        )
        .annotate(received=Coalesce(Subquery(bid_count, output_field=IntegerField()), Value(0)))
        .values("request__lot__number")
        .annotate(tenders=Count("id"), bids=Sum("received"), no_bid=Count("id", filter=Q(received=0)))
        .order_by()
    )
    counts = {entry["request__lot__number"]: entry for entry in grouped}
    rows = []
    for lot in Lot.objects.order_by("number"):
        entry = counts.get(lot.number, {})
        rows.append(BidsRow(lot, entry.get("tenders", 0), entry.get("bids") or 0, entry.get("no_bid", 0)))
    total = BidsRow(
        Lot(name="All lots"),
        sum(r.tenders for r in rows),
        sum(r.bids for r in rows),
        sum(r.no_bid_tenders for r in rows),
    )
    return BidsPerTender(month_from, month_to, rows, total)


# Market view: bid prices and awarded fees against the guide fee ------------------------------


def quantile(ordered: list[Decimal], q: Decimal) -> Decimal | None:
    """Linear interpolation between closest ranks (the spreadsheet PERCENTILE.INC rule)."""
    if not ordered:
        return None
    position = (len(ordered) - 1) * q
    lower = math.floor(position)
    upper = min(lower + 1, len(ordered) - 1)
    fraction = position - lower
    return money(ordered[lower] + (ordered[upper] - ordered[lower]) * fraction)


@dataclass
class Distribution:
    values: list[Decimal] = field(default_factory=list)

    def summary(self) -> dict:
        ordered = sorted(self.values)
        return {
            "count": len(ordered),
            "min": as_text(money(ordered[0])) if ordered else None,
            "lower_quartile": as_text(quantile(ordered, Decimal("0.25"))),
            "median": as_text(quantile(ordered, Decimal("0.5"))),
            "upper_quartile": as_text(quantile(ordered, Decimal("0.75"))),
            "max": as_text(money(ordered[-1])) if ordered else None,
        }

    def above(self, limit: Decimal | None) -> int:
        return 0 if limit is None else sum(1 for value in self.values if value > limit)


@dataclass
class MarketRow:
    lot: int
    area: str
    guide_fee: Decimal | None
    bids: Distribution
    awards: Distribution

    def as_json(self) -> dict:
        return {
            "lot": self.lot,
            "area": self.area,
            "guide_weekly_fee": as_text(self.guide_fee),
            "bids": self.bids.summary(),
            "bids_above_guide_fee": self.bids.above(self.guide_fee),
            "awarded": self.awards.summary(),
            "awards_above_guide_fee": self.awards.above(self.guide_fee),
        }


@dataclass
class MarketView:
    month_from: date
    month_to: date
    rows: list[MarketRow]

    def as_json(self) -> dict:
        return {
            "from": month_label(self.month_from),
            "to": month_label(self.month_to),
            "rows": [row.as_json() for row in self.rows],
        }

    def csv_header(self) -> list[str]:
        parts = ["count", "min", "lower quartile", "median", "upper quartile", "max"]
        return [
            "lot",
            "area",
            "guide weekly fee",
            *(f"bids {p}" for p in parts),
            "bids above guide fee",
            *(f"awarded {p}" for p in parts),
            "awards above guide fee",
        ]

    def csv_rows(self):
        for row in self.rows:
            data = row.as_json()
            yield [
                row.lot,
                row.area,
                data["guide_weekly_fee"] or "",
                *(value if value is not None else "" for value in data["bids"].values()),
                data["bids_above_guide_fee"],
                *(value if value is not None else "" for value in data["awarded"].values()),
                data["awards_above_guide_fee"],
            ]


def market_view(*, commissioner: Organisation, month_from: date, month_to: date) -> MarketView:
    """Bid prices and awarded fees per lot and area (the bidding home's local authority).

    Only tenders whose window has closed contribute, so no sealed amount is ever reported.
    """
    in_range = Q(
        tender__request__commissioner=commissioner,
        tender__status__in=CLOSED_TENDER_STATES,
        tender__closed_at__isnull=False,
        tender__closes_at__gte=london_midnight(month_from),
        tender__closes_at__lt=london_midnight(next_month(month_to)),
    )
    bids = Bid.objects.filter(in_range, status__in=COUNTED_BID_STATES).values_list(
        "tender__request__lot__number", "care_home__local_authority", "weekly_fee"
    )
    awards = Award.objects.filter(in_range).values_list(
        "tender__request__lot__number", "bid__care_home__local_authority", "bid__weekly_fee"
    )
    guide = dict(LotRules.objects.filter(commissioner=commissioner).values_list("lot__number", "guide_weekly_fee"))
    by_key: dict[tuple[int, str], MarketRow] = {}

    def row(lot: int, area: str) -> MarketRow:
        if (lot, area) not in by_key:
            by_key[(lot, area)] = MarketRow(lot, area, guide.get(lot), Distribution(), Distribution())
        return by_key[(lot, area)]

    for lot, area, fee in bids.order_by():
        row(lot, area).bids.values.append(fee)
    for lot, area, fee in awards.order_by():
        row(lot, area).awards.values.append(fee)
    return MarketView(month_from, month_to, [by_key[key] for key in sorted(by_key)])


# At-risk requests ----------------------------------------------------------------------------


class AtRiskReason:
    NOT_TENDERED = "Not yet out to tender"
    NO_BIDS_YET = "Window still open, no bids yet"
    WINDOW_OPEN = "Window still open"
    AWAITING_AWARD = "Window closed, awaiting award"
    NO_BIDS = "Closed with no bids: re-tender"
    TENDER_CANCELLED = "Tender cancelled: re-tender"
    AWAITING_PLACEMENT = "Awarded, placement not yet recorded"


def _at_risk_reason(request: PlacementRequest) -> str:
    if request.status == PlacementRequest.Status.AWARDED:
        return AtRiskReason.AWAITING_PLACEMENT
    status = request.latest_tender_status
    if status is None:
        return AtRiskReason.NOT_TENDERED
    if status == Tender.Status.OPEN:
        return AtRiskReason.WINDOW_OPEN if request.latest_tender_bids else AtRiskReason.NO_BIDS_YET
    if status == Tender.Status.NO_BIDS:
        return AtRiskReason.NO_BIDS
    if status == Tender.Status.CANCELLED:
        return AtRiskReason.TENDER_CANCELLED
    return AtRiskReason.AWAITING_AWARD


@dataclass
class AtRiskRequest:
    request: PlacementRequest
    reason: str
    days_to_target: int

    @property
    def overdue(self) -> bool:
        return self.days_to_target < 0

    @property
    def days_overdue(self) -> int:
        return -self.days_to_target

    def as_json(self) -> dict:
        return {
            "id": self.request.pk,
            "case_reference": self.request.case_reference,
            "lot": self.request.lot.number,
            "status": self.request.status,
            "requested_at": self.request.requested_at.isoformat(),
            "target_date": self.request.target_date.isoformat(),
            "days_to_target": self.days_to_target,
            "overdue": self.overdue,
            "reason": self.reason,
            "latest_tender_closes_at": as_text(
                self.request.latest_tender_closes_at and self.request.latest_tender_closes_at.isoformat()
            ),
        }


@dataclass
class AtRisk:
    today: date
    within_days: int
    rows: list[AtRiskRequest]

    def as_json(self) -> dict:
        return {
            "today": self.today.isoformat(),
            "within_days": self.within_days,
            "requests": [row.as_json() for row in self.rows],
        }

    def csv_header(self) -> list[str]:
        return ["request", "case reference", "lot", "status", "target date", "days to target", "reason"]

    def csv_rows(self):
        for row in self.rows:
            yield [
                row.request.pk,
                row.request.case_reference,
                row.request.lot.number,
                row.request.get_status_display(),
                row.request.target_date.isoformat(),
                row.days_to_target,
                row.reason,
            ]


def at_risk_requests(
    *, commissioner: Organisation, today: date | None = None, within_days: int = AT_RISK_DAYS
) -> AtRisk:
    """Open requests not yet sourced whose target date has passed or falls within `within_days`."""
    today = today or timezone.localdate()
    latest = Tender.objects.filter(request=OuterRef("pk")).order_by("-opened_at", "-id")
    bids_on_latest = (
        Bid.objects.filter(tender=OuterRef("latest_tender_id"), status__in=COUNTED_BID_STATES)
        .order_by()
        .values("tender")
        .annotate(n=Count("id"))
        .values("n")
    )
    requests = (
        PlacementRequest.objects.filter(
            commissioner=commissioner,
            status__in=OPEN_REQUEST_STATES,
            sourced_at__isnull=True,
            target_date__lte=today + timedelta(days=within_days),
        )
        .select_related("lot")
        .annotate(
            latest_tender_id=Subquery(latest.values("id")[:1]),
            latest_tender_status=Subquery(latest.values("status")[:1]),
            latest_tender_closes_at=Subquery(latest.values("closes_at")[:1]),
        )
        .annotate(latest_tender_bids=Coalesce(Subquery(bids_on_latest, output_field=IntegerField()), Value(0)))
        .order_by("target_date", "requested_at", "id")
    )
    rows = [AtRiskRequest(r, _at_risk_reason(r), (r.target_date - today).days) for r in requests]
    return AtRisk(today, within_days, rows)
