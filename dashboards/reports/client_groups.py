"""Placements active on a date by client group, in county and out of county."""

from dataclasses import dataclass
from datetime import date

from django.db.models import Count, Q

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
class PlacementsByClientGroup(Report):
    at: date
    rows: list[ClientGroupCount]
    total: ClientGroupCount

    format = ClientGroupsFormat


def _active_on(day: date) -> Q:
    return Q(start_date__lte=day) & (Q(end_date__isnull=True) | Q(end_date__gte=day))


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
