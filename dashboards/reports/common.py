"""What the dashboard reports share: months in Europe/London, rounding, the base of every report
and the few query vocabularies more than one report filters by."""

from datetime import date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import ClassVar
from zoneinfo import ZoneInfo

from django.utils import timezone

from bidding.models import Bid, Tender
from lots.models import ClientGroup

LONDON = ZoneInfo("Europe/London")
ONE_DECIMAL = Decimal("0.1")
PENNY = Decimal("0.01")

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


class Report:
    """Figures a page, the API and the export command show.

    How they read as JSON and CSV is the report's `format` (see `dashboards.presentation`), so the
    queries and the wording of the outputs change apart.
    """

    format: ClassVar[type]

    def as_json(self) -> dict:
        return self.format.as_json(self)

    def csv_header(self) -> list[str]:
        return self.format.csv_header(self)

    def csv_rows(self):
        return self.format.csv_rows(self)


# Numbers -------------------------------------------------------------------------------------


def percent(part: int, whole: int) -> Decimal | None:
    """Per cent to one decimal place, half rounded up; None when there is nothing to divide."""
    if not whole:
        return None
    return (Decimal(part) * 100 / Decimal(whole)).quantize(ONE_DECIMAL, rounding=ROUND_HALF_UP)


def one_decimal(value: Decimal) -> Decimal:
    return value.quantize(ONE_DECIMAL, rounding=ROUND_HALF_UP)


def money(value) -> Decimal | None:
    if value is None:
        return None
    return Decimal(str(value)).quantize(PENNY, rounding=ROUND_HALF_UP)


# Months --------------------------------------------------------------------------------------


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


def last_day(month: date) -> date:
    return next_month(month) - timedelta(days=1)


def london_midnight(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=LONDON)


def months_window(month_from: date, month_to: date) -> tuple[datetime, datetime]:
    """The first moment of `month_from` and the first moment after `month_to`, in Europe/London."""
    return london_midnight(month_from), london_midnight(next_month(month_to))


def default_month_range(today: date | None = None) -> tuple[date, date]:
    today = today or timezone.localdate()
    last = today.replace(day=1)
    first = date(last.year - 1, last.month, 1)
    return next_month(first), last
