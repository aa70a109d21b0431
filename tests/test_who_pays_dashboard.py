"""The who-pays dashboard, worked by hand: on 15 April 2026 council A has two nursing placements in
lot 6 and two in lot 1 (one ended before the date and council B's do not count).

Lot 6: 1,000.00 (council 700, contribution 100, FNC 200) and 800.00 (council 600, contribution 150,
top-up 50): mean gross 900.00, net of contributions (1,800 - 250) / 2 = 775.00, NHS 200 / 1,800 =
11.1%, one top-up of 50.00. Lot 1: 700.00 (the council) and 650.00 (council 600, top-up 50, never
given shares): mean 675.00 gross and net, NHS 0.0%, one top-up of 50.00. All: 3,150.00 over four,
mean 787.50, net (3,150 - 250) / 4 = 725.00, NHS 200 / 3,150 = 6.3%, two top-ups of 100.00."""

import csv
import datetime as dt
import io
from decimal import Decimal

import pytest

from contracts.models import PayerType, Route
from contracts.selectors import Share
from contracts.services import agreement_create_for_placement, funding_shares_change
from dashboards.reports.funding import who_pays
from organisations.models import Organisation

from .factories import OrganisationFactory, PaidPlacementFactory, lot

pytestmark = pytest.mark.django_db
D = Decimal
AT = dt.date(2026, 4, 15)
START = dt.date(2026, 1, 5)


@pytest.fixture
def world(council_a, council_b, broker_a):
    icb = OrganisationFactory(kind=Organisation.Kind.NHS, name="ICB", slug="icb-who-pays")

    def shared(fee, shares):
        placement = PaidPlacementFactory(
            commissioner=council_a, lot=lot(6), start_date=START, council_weekly_amount=D(fee)
        )
        agreement_create_for_placement(placement=placement, actor=broker_a)
        funding_shares_change(placement=placement, effective_from=START, shares=shares, reason="Set", by=broker_a)

    shared(
        "1000.00",
        [
            Share(PayerType.COUNCIL, D("700.00")),
            Share(PayerType.CONTRIBUTION, D("100.00"), Route.NET, payer_name="Mr One"),
            Share(PayerType.FNC, D("200.00"), Route.NET, payer_organisation_id=icb.pk),
        ],
    )
    shared(
        "800.00",
        [
            Share(PayerType.COUNCIL, D("600.00")),
            Share(PayerType.CONTRIBUTION, D("150.00"), Route.GROSS, payer_name="Mrs Two"),
            Share(PayerType.TOP_UP, D("50.00"), Route.GROSS, payer_name="Her son"),
        ],
    )
    PaidPlacementFactory(commissioner=council_a, lot=lot(1), start_date=START, council_weekly_amount=D("700.00"))
    PaidPlacementFactory(
        commissioner=council_a,
        lot=lot(1),
        start_date=START,
        council_weekly_amount=D("600.00"),
        top_up_weekly_amount=D("50.00"),
        top_up_payer="His son",
    )
    PaidPlacementFactory(
        commissioner=council_a,
        lot=lot(1),
        start_date=START,
        end_date=dt.date(2026, 4, 14),
        council_weekly_amount=D("9999"),
    )
    PaidPlacementFactory(commissioner=council_b, lot=lot(1), start_date=START, council_weekly_amount=D("9999"))


def _figures(row):
    return (row.placements, row.mean_gross, row.mean_net, row.nhs_percent, row.top_ups, row.top_up_weekly)


def test_hand_worked_who_pays_by_lot(world, council_a):
    report = who_pays(commissioner=council_a, at=AT)
    by_lot = {row.lot_number: _figures(row) for row in report.rows}
    assert by_lot[6] == (2, D("900.00"), D("775.00"), D("11.1"), 1, D("50.00"))
    assert by_lot[1] == (2, D("675.00"), D("675.00"), D("0.0"), 1, D("50.00"))
    assert by_lot[2] == (0, None, None, None, 0, D("0.00"))
    assert _figures(report.total) == (4, D("787.50"), D("725.00"), D("6.3"), 2, D("100.00"))


def test_the_page_api_and_csv_show_the_same_figures(world, commissioner_a, as_user):
    client = as_user(commissioner_a)
    body = client.get("/api/v1/dashboards/who-pays/?at=2026-04-15").json()
    assert body["total"] == {
        "lot": None,
        "label": "All lots",
        "placements": 4,
        "mean_weekly_cost_gross": "787.50",
        "mean_weekly_cost_net": "725.00",
        "weekly_cost": "3150.00",
        "weekly_contributions": "250.00",
        "weekly_nhs": "200.00",
        "nhs_percent": "6.3",
        "top_ups": 2,
        "weekly_top_ups": "100.00",
    }
    rows = list(
        csv.reader(
            io.StringIO(
                b"".join(client.get("/dashboards/who-pays/?at=2026-04-15&format=csv").streaming_content).decode()
            )
        )
    )
    assert rows[-1] == ["All lots", "4", "787.50", "725.00", "3150.00", "250.00", "200.00", "6.3", "2", "100.00"]
    page = client.get("/dashboards/who-pays/?at=2026-04-15").content.decode()
    assert "£775.00" in page and "11.1%" in page and "£787.50" in page
