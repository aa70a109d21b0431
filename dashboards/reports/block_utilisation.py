"""Block-booked beds: counts as at a day and occupancy of live beds month by month.

The figures are block beds' own (`blockbeds.selectors.utilisation`); this report picks the day and
the months from the dashboard's month range.
"""

from dataclasses import dataclass
from datetime import date

from django.utils import timezone

from blockbeds.selectors import utilisation
from organisations.models import Organisation

from ..presentation import BlockUtilisationFormat
from .common import Report, last_day


@dataclass
class BlockBedUtilisation(Report):
    month_from: date
    month_to: date
    result: object

    format = BlockUtilisationFormat


def block_bed_utilisation(*, commissioner: Organisation, month_from: date, month_to: date) -> BlockBedUtilisation:
    """Counts as at today, kept within the months shown, and occupancy for each of those months."""
    end = last_day(month_to)
    at = min(max(timezone.localdate(), month_from), end)
    result = utilisation(commissioner=commissioner, at=at, date_from=month_from, date_to=end)
    return BlockBedUtilisation(month_from, month_to, result)
