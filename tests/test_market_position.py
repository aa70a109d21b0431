"""Market position, worked by hand on a small fixture: homes and beds on the DPS by lot and district,
Good or Outstanding shares on the DPS, in the area and in England (from the imported CQC data, not a
constant), the vacancy rate and the body's share of each home's placements; page, API, CSV and the
export command agree."""

import io
import json
from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.utils import timezone

from dashboards.reports.market_position import market_position
from providers.models import Admission, CareHome

from .factories import AdmissionFactory, CareHomeFactory, PaidPlacementFactory, VacancyFactory, lot

pytestmark = pytest.mark.django_db


@pytest.fixture
def market(council_a, council_b, provider_a):
    def home(name, authority, rating, beds, *, residential=True, nursing=False, **kwargs):
        return CareHomeFactory(
            provider=provider_a,
            name=name,
            local_authority=authority,
            rating=rating,
            registered_beds=beds,
            provides_residential=residential,
            provides_nursing=nursing,
            **kwargs,
        )

    homes = {
        "h1": home("H1", "Staffordshire", "Good", 40),
        "h2": home("H2", "Stoke-on-Trent", "Requires improvement", 60, residential=False, nursing=True),
        "h3": home("H3", "Staffordshire", "Outstanding", 30, nursing=True),
        "h4": home("H4", "Sefton", "Good", 20),
        "h5": home("H5", "Staffordshire", "Good", 25, registration_status=CareHome.RegistrationStatus.DEREGISTERED),
        "h6": home("H6", "Staffordshire", None, 10),
        "h7": home("H7", "Staffordshire", "Inadequate", 15),
    }
    for key, number in [("h1", 1), ("h1", 2), ("h2", 1), ("h6", 1), ("h5", 1)]:
        AdmissionFactory(commissioner=council_a, care_home=homes[key], lot=lot(number))
    AdmissionFactory(commissioner=council_a, care_home=homes["h3"], lot=lot(2), status=Admission.Status.APPLIED)
    AdmissionFactory(commissioner=council_b, care_home=homes["h4"], lot=lot(1))
    VacancyFactory(care_home=homes["h1"], beds_free=3)
    VacancyFactory(care_home=homes["h2"], beds_free=2)
    VacancyFactory(care_home=homes["h4"], beds_free=5)
    today = timezone.localdate()
    PaidPlacementFactory.create_batch(2, commissioner=council_a, care_home=homes["h1"])
    PaidPlacementFactory(commissioner=council_b, care_home=homes["h1"])
    PaidPlacementFactory(commissioner=council_a, care_home=homes["h1"], end_date=today - timedelta(days=1))
    PaidPlacementFactory(
        commissioner=council_a, care_home=homes["h1"], cancelled_at=timezone.now(), cancel_reason="Lapsed"
    )
    PaidPlacementFactory(commissioner=council_b, care_home=homes["h2"])
    return homes


def test_the_figures_equal_the_hand_worked_example(council_a, market):
    report = market_position(commissioner=council_a, at=timezone.localdate())
    # DPS: H1, H2, H6 (H3 only applied, H5 deregistered, H4 on another body's DPS).
    assert [(r.name[:6], r.homes, r.beds) for r in report.by_lot[:3]] == [
        ("Lot 1:", 3, 110),
        ("Lot 2:", 1, 40),
        ("Lot 3:", 0, 0),
    ]
    assert [(r.name, r.homes, r.beds) for r in report.by_district] == [
        ("Staffordshire", 2, 50),
        ("Stoke-on-Trent", 1, 60),
    ]
    shares = {(s.scope, s.setting): (s.rated, s.good_or_outstanding, s.percent) for s in report.shares}
    assert shares == {
        # DPS residential: H1 Good, H6 not rated -> 1 of 1; nursing: H2 RI -> 0 of 1
        ("DPS", "Residential"): (1, 1, Decimal("100.0")),
        ("DPS", "Nursing"): (1, 0, Decimal("0.0")),
        # Staffordshire, registered: H1 Good, H3 Outstanding, H7 Inadequate (H6 unrated) -> 2 of 3; nursing H3
        ("Area (Staffordshire)", "Residential"): (3, 2, Decimal("66.7")),
        ("Area (Staffordshire)", "Nursing"): (1, 1, Decimal("100.0")),
        # England: H1, H3, H4 of H1, H3, H4, H7 -> 3 of 4; nursing H3 of H2, H3 -> 1 of 2
        ("England", "Residential"): (4, 3, Decimal("75.0")),
        ("England", "Nursing"): (2, 1, Decimal("50.0")),
    }
    # Vacancy: 3 + 2 free of 40 + 60 + 10 registered on the DPS = 4.5%
    assert (report.beds_free, report.registered_beds, report.vacancy_percent) == (5, 110, Decimal("4.5"))
    placed = {h.name: (h.body_placements, h.all_placements, h.percent) for h in report.homes}
    assert placed == {"H1": (2, 3, Decimal("66.7")), "H2": (0, 1, Decimal("0.0")), "H6": (0, 0, None)}


def test_england_follows_the_imported_cqc_data(council_a, market, provider_a):
    CareHomeFactory(provider=provider_a, local_authority="Cornwall", rating="Outstanding")
    report = market_position(commissioner=council_a, at=timezone.localdate())
    england = next(s for s in report.shares if s.scope == "England" and s.setting == "Residential")
    assert (england.rated, england.good_or_outstanding, england.percent) == (5, 4, Decimal("80.0"))


def test_page_api_csv_and_export_command_agree(
    council_a, council_b, commissioner_a, commissioner_b, market, as_user, api_as
):
    page = as_user(commissioner_a).get("/dashboards/market-position/")
    assert page.status_code == 200 and "66.7%" in page.content.decode()
    api = api_as(council_a, scopes=["dashboards"]).get("/api/v1/dashboards/market-position/").json()
    assert api["vacancy"] == {"registered_beds": 110, "beds_free": 5, "percent": "4.5"}
    assert next(h for h in api["placements_by_home"] if h["care_home"] == "H1")["percent"] == "66.7"
    csv = b"".join(as_user(commissioner_a).get("/dashboards/market-position/?format=csv").streaming_content).decode()
    assert "Vacancy,DPS homes,,110,,,5,,,4.5" in csv
    out, err = io.StringIO(), io.StringIO()
    call_command(
        "export_dashboard",
        "market-position",
        "--commissioner",
        council_a.slug,
        "--format",
        "json",
        stdout=out,
        stderr=err,
    )
    assert json.loads(out.getvalue()) == api
    assert "Computing Market position" in err.getvalue()
    # Council B's DPS holds H4 only; its figures say nothing of council A's DPS.
    theirs = api_as(council_b, scopes=["dashboards"]).get("/api/v1/dashboards/market-position/").json()
    assert [h["care_home"] for h in theirs["placements_by_home"]] == ["H4"]
