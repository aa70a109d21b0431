"""Placements active on a date by client group, in county and out of county, and of them the spot
contracts by the person's choice off the DPS with what the council pays for them each week."""

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django.db.models import Count, Q, Sum

from organisations.models import Organisation
from placements.models import Placement

from ..presentation import ClientGroupsFormat
from .common import CLIENT_GROUPS, Report


@dataclass
class ClientGroupCount:
    client_group: str
    label: str
    in_county: int
    out_of_county: int

    @property
    def total(self) -> int:
        return self.in_county + self.out_of_county


@dataclass
class OffDpsChoiceCount:
    """Spot contracts by the person's choice active on the day, and the council's weekly cost of them."""

    in_county: int = 0
    out_of_county: int = 0
    in_county_weekly_cost: Decimal = Decimal("0.00")
    out_of_county_weekly_cost: Decimal = Decimal("0.00")


@dataclass
class PlacementsByClientGroup(Report):
    at: date
    rows: list[ClientGroupCount]
    total: ClientGroupCount
    off_dps_choice: OffDpsChoiceCount

    format = ClientGroupsFormat


def _active_on(day: date) -> Q:
    return Q(start_date__lte=day) & (Q(end_date__isnull=True) | Q(end_date__gte=day))


def placements_by_client_group(*, commissioner: Organisation, at: date) -> PlacementsByClientGroup:
    off_dps = Q(source=Placement.Source.OFF_DPS_CHOICE)
    grouped = list(
        Placement.objects.live()
        .filter(_active_on(at), commissioner=commissioner)
        .values("lot__client_group", "in_county")
        .annotate(
            n=Count("id"),
            off_dps=Count("id", filter=off_dps),
            off_dps_cost=Sum("council_weekly_amount", filter=off_dps),
        )
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
    return PlacementsByClientGroup(at=at, rows=rows, total=total, off_dps_choice=_off_dps_choice(grouped))


def _off_dps_choice(grouped: list[dict]) -> OffDpsChoiceCount:
    """The spot contracts by choice among the grouped counts, in and out of county."""
    result = OffDpsChoiceCount()
    for entry in grouped:
        cost = entry["off_dps_cost"] or Decimal("0.00")
        if entry["in_county"]:
            result.in_county += entry["off_dps"]
            result.in_county_weekly_cost += cost
        else:
            result.out_of_county += entry["off_dps"]
            result.out_of_county_weekly_cost += cost
    return result
