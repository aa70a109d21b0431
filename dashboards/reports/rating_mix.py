"""Current CQC ratings of the homes admitted to a body's lots, residential and nursing."""

from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Count, Exists, OuterRef, Q

from lots.models import Setting
from organisations.models import Organisation
from providers.models import Admission, CareHome
from quality.models import RatingValue

from ..presentation import RatingMixFormat
from .common import Report, percent

RATING_ORDER = [
    RatingValue.OUTSTANDING,
    RatingValue.GOOD,
    RatingValue.REQUIRES_IMPROVEMENT,
    RatingValue.INADEQUATE,
    RatingValue.NOT_RATED,
]
SETTINGS = [(Setting.RESIDENTIAL, Q(provides_residential=True)), (Setting.NURSING, Q(provides_nursing=True))]


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


@dataclass
class RatingMix(Report):
    rows: list[RatingMixRow]
    labels = [value.label for value in RATING_ORDER]

    format = RatingMixFormat


def _rated_as(value: str) -> Q:
    if value == RatingValue.NOT_RATED:
        return Q(current_rating__isnull=True) | Q(current_rating__overall=value)
    return Q(current_rating__overall=value)


def rating_mix(*, commissioner: Organisation) -> RatingMix:
    """Current CQC ratings of the homes admitted to at least one of the body's lots.

    The share counts rated homes only, as the CQC's own market figures do.
    """
    on_dps = Admission.objects.filter(
        commissioner=commissioner, care_home=OuterRef("pk"), status=Admission.Status.ADMITTED
    )
    aggregates = {
        f"{setting.value}_{index}": Count("id", filter=condition & _rated_as(value))
        for setting, condition in SETTINGS
        for index, value in enumerate(RATING_ORDER)
    }
    result = CareHome.objects.filter(Exists(on_dps)).aggregate(**aggregates)
    rows = [
        RatingMixRow(
            setting.value,
            setting.label,
            {value: result[f"{setting.value}_{index}"] for index, value in enumerate(RATING_ORDER)},
        )
        for setting, _ in SETTINGS
    ]
    return RatingMix(rows)
