"""Market position: the body's DPS against the homes of its area and of England.

Homes and beds on the DPS by lot and by district; the share of rated homes that are Good or
Outstanding, residential and nursing, on the DPS, in the body's area and in England (every
registered home in the imported CQC data); free beds against registered beds on the DPS; and the
body's share of the placements in each DPS home, on a day.
"""

from dataclasses import dataclass
from datetime import date

from django.db.models import Count, Exists, OuterRef, Q, Sum

from lots.models import Lot, Setting
from organisations.models import Organisation
from providers.models import Admission, CareHome
from quality.models import RatingValue

from ..presentation import MarketPositionFormat
from .common import Report, percent

SETTINGS = [(Setting.RESIDENTIAL, Q(provides_residential=True)), (Setting.NURSING, Q(provides_nursing=True))]
GOOD_OR_OUTSTANDING = [RatingValue.OUTSTANDING, RatingValue.GOOD]
RATED = [*GOOD_OR_OUTSTANDING, RatingValue.REQUIRES_IMPROVEMENT, RatingValue.INADEQUATE]


@dataclass(frozen=True)
class HomesAndBeds:
    name: str
    homes: int
    beds: int


@dataclass(frozen=True)
class RatingShare:
    scope: str
    setting: str
    rated: int
    good_or_outstanding: int

    @property
    def percent(self):
        return percent(self.good_or_outstanding, self.rated)


@dataclass(frozen=True)
class HomePlacements:
    name: str
    cqc_location_id: str
    registered_beds: int
    body_placements: int
    all_placements: int

    @property
    def percent(self):
        return percent(self.body_placements, self.all_placements)


@dataclass
class MarketPosition(Report):
    at: date
    area: str
    by_lot: list[HomesAndBeds]
    by_district: list[HomesAndBeds]
    shares: list[RatingShare]
    registered_beds: int
    beds_free: int
    homes: list[HomePlacements]

    format = MarketPositionFormat

    @property
    def vacancy_percent(self):
        return percent(self.beds_free, self.registered_beds)


def _on_dps(commissioner: Organisation) -> Q:
    admitted = Admission.objects.filter(
        commissioner=commissioner, care_home=OuterRef("pk"), status=Admission.Status.ADMITTED
    )
    return Q(Exists(admitted))


def _shares(scope: str, homes) -> list[RatingShare]:
    """Rated homes and those Good or Outstanding, by setting, in one query."""
    aggregates = {}
    for setting, condition in SETTINGS:
        aggregates[f"{setting.value}_rated"] = Count("pk", filter=condition & Q(current_rating__overall__in=RATED))
        aggregates[f"{setting.value}_good"] = Count(
            "pk", filter=condition & Q(current_rating__overall__in=GOOD_OR_OUTSTANDING)
        )
    result = homes.aggregate(**aggregates)
    return [
        RatingShare(scope, setting.label, result[f"{setting.value}_rated"], result[f"{setting.value}_good"])
        for setting, _ in SETTINGS
    ]


def market_position(*, commissioner: Organisation, at: date) -> MarketPosition:
    registered = CareHome.objects.filter(registration_status=CareHome.RegistrationStatus.REGISTERED)
    dps = registered.filter(_on_dps(commissioner))

    lots = (
        Admission.objects.filter(commissioner=commissioner, status=Admission.Status.ADMITTED, care_home__in=registered)
        .values("lot__number")
        .annotate(homes=Count("care_home", distinct=True), beds=Sum("care_home__registered_beds"))
        .order_by("lot__number")
    )
    counted = {row["lot__number"]: row for row in lots}
    by_lot = [
        HomesAndBeds(
            f"Lot {lot.number}: {lot.name}",
            counted.get(lot.number, {}).get("homes", 0),
            counted.get(lot.number, {}).get("beds") or 0,
        )
        for lot in Lot.objects.order_by("number")
    ]
    districts = (
        dps.values("local_authority")
        .annotate(homes=Count("pk"), beds=Sum("registered_beds"))
        .order_by("local_authority")
    )
    by_district = [HomesAndBeds(row["local_authority"], row["homes"], row["beds"] or 0) for row in districts]

    area = commissioner.local_authority
    shares = [
        *_shares("DPS", dps),
        *_shares(
            f"Area ({area})" if area else "Area (not set)",
            registered.filter(local_authority=area) if area else registered.none(),
        ),
        *_shares("England", registered),
    ]

    beds = dps.aggregate(registered=Sum("registered_beds"))["registered"] or 0
    # From each DPS home to its vacancies by their home's key (an indexed join, not a walk of them all).
    free = dps.aggregate(free=Sum("vacancies__beds_free"))["free"] or 0

    active = Q(placements__start_date__lte=at) & (
        Q(placements__end_date__isnull=True) | Q(placements__end_date__gte=at)
    )
    live = Q(placements__cancelled_at__isnull=True)
    placed = dps.annotate(
        all_placements=Count("placements", filter=active & live),
        body_placements=Count("placements", filter=active & live & Q(placements__commissioner=commissioner)),
    ).order_by("name", "pk")
    homes = [
        HomePlacements(h.name, h.cqc_location_id, h.registered_beds, h.body_placements, h.all_placements)
        for h in placed.only("name", "cqc_location_id", "registered_beds")
    ]
    return MarketPosition(
        at=at,
        area=area,
        by_lot=by_lot,
        by_district=by_district,
        shares=shares,
        registered_beds=beds,
        beds_free=free,
        homes=homes,
    )
