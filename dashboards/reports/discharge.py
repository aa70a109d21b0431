"""Hospital discharge and urgent sourcing: per month (Europe/London) and urgency, the referrals
received, how many hours people waited from ready for discharge (or the request) to a placement
sourced, how many were sourced within their target, and the delayed days; discharge-to-assess
outcomes by month; and the live bed vacancies by area and kind of bed, fresh or stale.

The waits are measured over the placements sourced in each month (live ones: a lapsed award's
placement is not a sourcing), with the request's urgency, ready time and target moment; a placement
of imported history has no request and counts as planned, from its own request time. Medians and
90th percentiles are PostgreSQL's `percentile_cont` (linear interpolation between closest ranks,
the spreadsheet PERCENTILE.INC rule), one grouped query for all months and urgencies.
"""

from dataclasses import dataclass
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal

from django.db.models import (
    Aggregate,
    Count,
    Exists,
    F,
    FloatField,
    Func,
    IntegerField,
    Max,
    OuterRef,
    Q,
    Sum,
    Value,
)
from django.db.models.functions import Coalesce, TruncDate, TruncMonth
from django.utils import timezone

from lots.models import Urgency
from organisations.models import Organisation
from placements.models import Placement, PlacementRequest
from placements.selectors import assessment_review_overdue_q
from providers.models import Admission, BedVacancy, CareHome
from providers.selectors import bed_vacancy_fresh_q, closed_to_admissions_q, vacancy_fresh_hours_for

from ..presentation import DischargeFormat
from .common import LONDON, ONE_DECIMAL, Report, months_between, months_window, next_month, percent

URGENCIES = [Urgency.HOSPITAL_DISCHARGE, Urgency.URGENT_COMMUNITY, Urgency.PLANNED]
OUTCOMES = list(Placement.AssessmentOutcome)


class PercentileCont(Aggregate):
    """`percentile_cont(fraction) WITHIN GROUP (ORDER BY expression)`: a continuous percentile."""

    function = "PERCENTILE_CONT"
    template = "%(function)s(%(fraction)s) WITHIN GROUP (ORDER BY %(expressions)s)"
    output_field = FloatField()

    def __init__(self, expression, *, fraction: float, **extra):
        super().__init__(expression, fraction=float(fraction), **extra)


def hours_between(later, earlier) -> Func:
    """Hours from `earlier` to `later` as elapsed time (a clock change day has 23 or 25 hours); a
    placement sourced before the person was ready waited no hours."""
    return Func(
        later,
        earlier,
        arg_joiner=" - ",
        template="GREATEST(EXTRACT(EPOCH FROM (%(expressions)s))::float8 / 3600.0, 0)",
        output_field=FloatField(),
    )


def days_between(later, earlier) -> Func:
    """Calendar days from one date to a later one, never below zero."""
    return Func(later, earlier, arg_joiner=" - ", template="GREATEST(%(expressions)s, 0)", output_field=IntegerField())


def one_decimal_hours(value: float | None) -> Decimal | None:
    if value is None:
        return None
    return Decimal(str(value)).quantize(ONE_DECIMAL, rounding=ROUND_HALF_UP)


@dataclass(frozen=True)
class DischargeCell:
    referrals: int = 0
    sourced: int = 0
    median_hours: Decimal | None = None
    p90_hours: Decimal | None = None
    within_target: int = 0
    # Only requests with a ready-for-discharge time have delayed days; None when there were none.
    delayed_days: int | None = None
    # Discharge-to-assess outcomes that took effect in the month, in the order of `OUTCOMES`.
    outcomes: tuple[int, ...] = (0,) * len(OUTCOMES)

    @property
    def percent_within_target(self) -> Decimal | None:
        return percent(self.within_target, self.sourced)


@dataclass
class DischargeRow:
    month: date
    cells: list[DischargeCell]

    @property
    def outcomes(self) -> list[int]:
        """The month's discharge-to-assess outcomes, whatever the urgency."""
        return [sum(counts) for counts in zip(*(cell.outcomes for cell in self.cells), strict=True)]

    @property
    def outcomes_total(self) -> int:
        return sum(self.outcomes)


@dataclass(frozen=True)
class VacancyRow:
    """Free beds of one kind in one area, as homes last confirmed them."""

    area: str
    setting: str
    room_type: str
    homes: int
    fresh_beds: int
    stale_beds: int
    last_confirmed_at: datetime


@dataclass
class Discharge(Report):
    month_from: date
    month_to: date
    urgencies: list[tuple[str, str]]
    rows: list[DischargeRow]
    outcomes: list[tuple[str, str]]
    reviews_overdue: int
    today: date
    vacancies: list[VacancyRow]
    fresh_hours: int

    format = DischargeFormat


def _month(value) -> date:
    return value.astimezone(LONDON).date() if isinstance(value, datetime) else value


def discharge_sourcing(*, commissioner: Organisation, month_from: date, month_to: date):
    """Per month of sourcing (Europe/London) and urgency: placements sourced, the median and 90th
    percentile hours waited, how many by their target, and the delayed days."""
    start, end = months_window(month_from, month_to)
    waited_from = Coalesce("request__ready_for_discharge_at", "request__requested_at", "requested_at")
    sourced_day = TruncDate("sourced_at", tzinfo=LONDON)
    within = Q(request__target_at__isnull=False, sourced_at__lte=F("request__target_at")) | Q(
        request__target_at__isnull=True, sourced_day__lte=F("target_date")
    )
    # GREATEST passes NULL over, so rows with no start (imported history with no request time) or no
    # ready time are left out of each aggregate by its filter, not counted as zero.
    timed = Q(waited_from__isnull=False)
    ready = Q(request__ready_for_discharge_at__isnull=False)
    return (
        Placement.objects.live()
        .filter(commissioner=commissioner, sourced_at__gte=start, sourced_at__lt=end)
        .annotate(
            month=TruncMonth("sourced_at", tzinfo=LONDON),
            urgency=Coalesce("request__urgency", Value(Urgency.PLANNED)),
            sourced_day=sourced_day,
            waited_from=waited_from,
        )
        .annotate(
            waited=hours_between(F("sourced_at"), F("waited_from")),
            delayed=days_between(sourced_day, TruncDate("request__ready_for_discharge_at", tzinfo=LONDON)),
        )
        .values("month", "urgency")
        .annotate(
            sourced=Count("id"),
            median=PercentileCont("waited", fraction=0.5, filter=timed),
            p90=PercentileCont("waited", fraction=0.9, filter=timed),
            within_target=Count("id", filter=within),
            delayed_days=Sum("delayed", filter=ready),
        )
        .order_by()
    )


def discharge_referrals(*, commissioner: Organisation, month_from: date, month_to: date):
    """Per month the request was made (Europe/London) and urgency: requests received."""
    start, end = months_window(month_from, month_to)
    return (
        PlacementRequest.objects.filter(commissioner=commissioner, requested_at__gte=start, requested_at__lt=end)
        .annotate(month=TruncMonth("requested_at", tzinfo=LONDON))
        .values("month", "urgency")
        .annotate(referrals=Count("id"))
        .order_by()
    )


def assessment_outcomes(*, commissioner: Organisation, month_from: date, month_to: date):
    """Discharge-to-assess outcomes per month they took effect and urgency of the stay's request."""
    return (
        Placement.objects.live()
        .filter(
            commissioner=commissioner,
            assessment_outcome_on__gte=month_from,
            assessment_outcome_on__lt=next_month(month_to),
        )
        .exclude(assessment_outcome="")
        .annotate(
            month=TruncMonth("assessment_outcome_on"), urgency=Coalesce("request__urgency", Value(Urgency.PLANNED))
        )
        .values("month", "urgency", "assessment_outcome")
        .annotate(n=Count("id"))
        .order_by()
    )


def live_vacancies(*, commissioner: Organisation, fresh_hours: int, at: datetime):
    """Bed vacancies in homes admitted to any of the body's lots and open to its admissions, by the
    home's area, the setting (the lot's, or the one named) and the room: beds confirmed within
    `fresh_hours` (fresh) and before (stale), the homes, and the latest confirmation."""
    admitted = Admission.objects.filter(
        commissioner=commissioner, care_home=OuterRef("care_home"), status=Admission.Status.ADMITTED
    )
    closed = CareHome.objects.filter(closed_to_admissions_q(commissioner, at))
    fresh = bed_vacancy_fresh_q(fresh_hours=fresh_hours, at=at)
    return (
        BedVacancy.objects.filter(Exists(admitted))
        .exclude(care_home__in=closed)
        .annotate(area=F("care_home__local_authority"), kind=Coalesce("lot__setting", "setting"))
        .values("area", "kind", "room_type")
        .annotate(
            homes=Count("care_home", distinct=True),
            fresh_beds=Coalesce(Sum("beds", filter=fresh), 0),
            stale_beds=Coalesce(Sum("beds", filter=~fresh), 0),
            last_confirmed_at=Max("confirmed_at"),
        )
        .order_by("area", "kind", "room_type")
    )


def discharge(*, commissioner: Organisation, month_from: date, month_to: date, today: date | None = None) -> Discharge:
    """Five grouped queries whatever the number of placements, months or vacancies."""
    today = today or timezone.localdate()
    months = months_between(month_from, month_to)
    referrals = {
        (_month(e["month"]), e["urgency"]): e["referrals"]
        for e in discharge_referrals(commissioner=commissioner, month_from=month_from, month_to=month_to)
    }
    sourcing = {
        (_month(e["month"]), e["urgency"]): e
        for e in discharge_sourcing(commissioner=commissioner, month_from=month_from, month_to=month_to)
    }
    outcome_counts = {
        (_month(e["month"]), e["urgency"], e["assessment_outcome"]): e["n"]
        for e in assessment_outcomes(commissioner=commissioner, month_from=month_from, month_to=month_to)
    }
    rows = []
    for month in months:
        cells = []
        for urgency in URGENCIES:
            entry = sourcing.get((month, urgency.value), {})
            cells.append(
                DischargeCell(
                    referrals=referrals.get((month, urgency.value), 0),
                    sourced=entry.get("sourced", 0),
                    median_hours=one_decimal_hours(entry.get("median")),
                    p90_hours=one_decimal_hours(entry.get("p90")),
                    within_target=entry.get("within_target", 0),
                    delayed_days=entry.get("delayed_days"),
                    outcomes=tuple(outcome_counts.get((month, urgency.value, o.value), 0) for o in OUTCOMES),
                )
            )
        rows.append(DischargeRow(month, cells))
    overdue = Placement.objects.filter(assessment_review_overdue_q(today), commissioner=commissioner).count()
    fresh_hours = vacancy_fresh_hours_for(commissioner=commissioner)
    settings = dict(BedVacancy.Setting.choices)
    rooms = dict(BedVacancy.RoomType.choices)
    vacancies = [
        VacancyRow(
            area=entry["area"],
            setting=settings.get(entry["kind"], entry["kind"]),
            room_type=rooms.get(entry["room_type"], entry["room_type"]),
            homes=entry["homes"],
            fresh_beds=entry["fresh_beds"],
            stale_beds=entry["stale_beds"],
            last_confirmed_at=entry["last_confirmed_at"],
        )
        for entry in live_vacancies(commissioner=commissioner, fresh_hours=fresh_hours, at=timezone.now())
    ]
    return Discharge(
        month_from=month_from,
        month_to=month_to,
        urgencies=[(u.value, u.label) for u in URGENCIES],
        rows=rows,
        outcomes=[(o.value, o.label) for o in OUTCOMES],
        reviews_overdue=overdue,
        today=today,
        vacancies=vacancies,
        fresh_hours=fresh_hours,
    )
