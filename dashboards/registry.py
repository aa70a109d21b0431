"""The dashboards, by the name used in page and API addresses and by the export command.

Each names its filter form (which also parses API query strings and command options) and the
function that computes it for one commissioning body.
"""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta

from django.utils import timezone

from blockbeds.selectors import utilisation
from organisations.models import COMMISSIONING_ROLES, Organisation, Role

from . import forms, selectors
from .selectors import as_text, month_label, next_month


@dataclass
class BlockBedUtilisation:
    """Block-booked beds: counts as at a day and occupancy of live beds month by month."""

    month_from: date
    month_to: date
    result: object

    def as_json(self) -> dict:
        overall = self.result.overall
        return {
            "from": month_label(self.month_from),
            "to": month_label(self.month_to),
            "at": self.result.at.isoformat(),
            "contracted": overall.contracted,
            "live": overall.live,
            "filled": overall.filled,
            "void": overall.void,
            "occupancy_percent": as_text(overall.occupancy_rate),
            "void_cost": as_text(overall.void_cost),
            "months": [
                {
                    "month": month_label(period.start),
                    "live_bed_days": period.live_bed_days,
                    "filled_bed_days": period.filled_bed_days,
                    "occupancy_percent": as_text(period.occupancy_rate),
                }
                for period in self.result.periods
            ],
        }

    def csv_header(self) -> list[str]:
        return ["month", "live bed-days", "filled bed-days", "void bed-days", "occupancy %"]

    def csv_rows(self):
        for period in self.result.periods:
            yield [
                month_label(period.start),
                period.live_bed_days,
                period.filled_bed_days,
                period.void_bed_days,
                as_text(period.occupancy_rate) or "",
            ]


def block_bed_utilisation(*, commissioner: Organisation, month_from: date, month_to: date) -> BlockBedUtilisation:
    last_day = next_month(month_to) - timedelta(days=1)
    at = min(max(timezone.localdate(), month_from), last_day)
    result = utilisation(commissioner=commissioner, at=at, date_from=month_from, date_to=last_day)
    return BlockBedUtilisation(month_from, month_to, result)


@dataclass(frozen=True)
class Dashboard:
    name: str
    title: str
    summary: str
    form_class: type
    build: Callable[..., object]
    template: str
    roles: tuple[str, ...] = (Role.COMMISSIONER,)


DASHBOARDS = {
    dashboard.name: dashboard
    for dashboard in [
        Dashboard(
            "timeliness",
            "Timeliness of sourcing",
            "Placements sourced within target timescales, by month and lot.",
            forms.MonthRangeForm,
            selectors.timeliness,
            "dashboards/timeliness.html",
        ),
        Dashboard(
            "placements-by-client-group",
            "Placements by client group",
            "Placements active on a date, in county and out of county.",
            forms.AtDateForm,
            selectors.placements_by_client_group,
            "dashboards/placements_by_client_group.html",
        ),
        Dashboard(
            "mean-weekly-cost",
            "Mean gross weekly cost",
            "Mean gross weekly fee of placements active in each month, by client group.",
            forms.MonthRangeForm,
            selectors.mean_weekly_cost,
            "dashboards/mean_weekly_cost.html",
        ),
        Dashboard(
            "rating-mix",
            "CQC ratings of homes on the DPS",
            "Current CQC ratings of admitted homes, residential and nursing.",
            forms.NoFilterForm,
            selectors.rating_mix,
            "dashboards/rating_mix.html",
        ),
        Dashboard(
            "bids-per-tender",
            "Bids per tender",
            "Bids received per closed tender and the share of tenders with no bids, by lot.",
            forms.MonthRangeForm,
            selectors.bids_per_tender,
            "dashboards/bids_per_tender.html",
        ),
        Dashboard(
            "market",
            "Market view",
            "Bid prices and awarded fees by lot and area against the guide fee (closed tenders only).",
            forms.MonthRangeForm,
            selectors.market_view,
            "dashboards/market.html",
        ),
        Dashboard(
            "at-risk",
            "Requests at risk of missing their target",
            "Open requests past or near their target date, with what they are waiting for.",
            forms.AtRiskForm,
            selectors.at_risk_requests,
            "dashboards/at_risk.html",
            roles=tuple(COMMISSIONING_ROLES),
        ),
        Dashboard(
            "block-bed-utilisation",
            "Block bed utilisation",
            "Block-booked beds contracted, live and filled, and occupancy month by month.",
            forms.MonthRangeForm,
            block_bed_utilisation,
            "dashboards/block_bed_utilisation.html",
        ),
    ]
}


def dashboard_run(dashboard: Dashboard, *, commissioner: Organisation, data) -> tuple[object, object | None]:
    """The bound filter form and, when it is valid, the dashboard's figures."""
    form = dashboard.form_class(data)
    if not form.is_valid():
        return form, None
    return form, dashboard.build(commissioner=commissioner, **form.params())
