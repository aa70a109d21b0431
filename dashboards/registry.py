"""The dashboards, by the name used in page and API addresses and by the export command.

Each names its filter form (which also parses API query strings and command options) and the
function that computes it for one commissioning body.
"""

from collections.abc import Callable
from dataclasses import dataclass

from organisations.models import COMMISSIONING_ROLES, Organisation, Role

from . import forms
from .reports.at_risk import at_risk_requests
from .reports.bids_per_tender import bids_per_tender
from .reports.block_utilisation import block_bed_utilisation
from .reports.client_groups import placements_by_client_group
from .reports.cost import mean_weekly_cost
from .reports.discharge import discharge
from .reports.funding import who_pays
from .reports.market import market_view
from .reports.market_position import market_position
from .reports.rating_mix import rating_mix
from .reports.timeliness import timeliness


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
            forms.TimelinessForm,
            timeliness,
            "dashboards/timeliness.html",
        ),
        Dashboard(
            "placements-by-client-group",
            "Placements by client group",
            "Placements active on a date, in county and out of county.",
            forms.AtDateForm,
            placements_by_client_group,
            "dashboards/placements_by_client_group.html",
        ),
        Dashboard(
            "mean-weekly-cost",
            "Mean gross weekly cost",
            "Mean gross weekly fee of placements active in each month, by client group.",
            forms.MonthRangeForm,
            mean_weekly_cost,
            "dashboards/mean_weekly_cost.html",
        ),
        Dashboard(
            "rating-mix",
            "CQC ratings of homes on the DPS",
            "Current CQC ratings of admitted homes, residential and nursing.",
            forms.NoFilterForm,
            rating_mix,
            "dashboards/rating_mix.html",
        ),
        Dashboard(
            "bids-per-tender",
            "Bids per tender",
            "Bids received per closed tender and the share of tenders with no bids, by lot.",
            forms.MonthRangeForm,
            bids_per_tender,
            "dashboards/bids_per_tender.html",
        ),
        Dashboard(
            "market",
            "Market view",
            "Bid prices and awarded fees by lot and area against the guide fee (closed tenders only).",
            forms.MonthRangeForm,
            market_view,
            "dashboards/market.html",
        ),
        Dashboard(
            "market-position",
            "Market position",
            "Homes and beds on the DPS by lot and district; Good or Outstanding shares on the DPS, in the area "
            "and in England; vacancy rate; your share of each home's placements.",
            forms.AtDateForm,
            market_position,
            "dashboards/market_position.html",
        ),
        Dashboard(
            "at-risk",
            "Requests at risk of missing their target",
            "Open requests past or near their target date, with what they are waiting for.",
            forms.AtRiskForm,
            at_risk_requests,
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
        Dashboard(
            "discharge",
            "Hospital discharge and urgent placements",
            "Referrals, hours from ready for discharge to a placement sourced, delayed days and "
            "discharge-to-assess outcomes, by month and urgency.",
            forms.MonthRangeForm,
            discharge,
            "dashboards/discharge.html",
        ),
        Dashboard(
            "who-pays",
            "Who pays: net cost, NHS share and top-ups",
            "Placements active on a date by lot: mean weekly cost gross and net of residents' contributions, "
            "the NHS share of the total weekly cost, and third-party top-ups.",
            forms.AtDateForm,
            who_pays,
            "dashboards/who_pays.html",
        ),
    ]
}


def dashboard_run(dashboard: Dashboard, *, commissioner: Organisation, data) -> tuple[object, object | None]:
    """The bound filter form and, when it is valid, the dashboard's figures."""
    form = dashboard.form_class(data)
    if not form.is_valid():
        return form, None
    return form, dashboard.build(commissioner=commissioner, **form.params())
