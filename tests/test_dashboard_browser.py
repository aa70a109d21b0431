"""In a real browser: the timeliness dashboard's filter, chart and table, checked with axe."""

from datetime import date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import expect

from placements.models import Placement

from .factories import TEST_PASSWORD, lot

LONDON = ZoneInfo("Europe/London")


def sign_in(page, live_server, user):
    page.goto(f"{live_server.url}/sign-in/")
    page.locator("#id_username").fill(user.email)
    page.locator("#id_password").fill(TEST_PASSWORD)
    page.get_by_role("button", name="Sign in").click()


def serious_violations(page) -> list[str]:
    """Serious problems in the page's main content (the shared header and footer are checked elsewhere)."""
    results = Axe().run(page, context="#main-content")
    return [v["id"] for v in results.response["violations"] if v["impact"] in ("serious", "critical")]


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_timeliness_dashboard_filters_and_shows_an_accessible_chart_and_table(
    live_server, browser_page, council_a, commissioner_a, broker_a
):
    placements = []
    for month, (sourced, on_time) in enumerate([(4, 3), (5, 5), (4, 1)], start=1):
        for index in range(sourced):
            day = date(2023, month, 10)
            fee = Decimal("800.00")
            placements.append(
                Placement(
                    commissioner=council_a,
                    case_reference=f"B-{month}-{index}",
                    lot=lot(1),
                    source=Placement.Source.IMPORTED,
                    weekly_fee=fee,
                    council_weekly_amount=fee,
                    start_date=day,
                    in_county=True,
                    target_date=day if index < on_time else day - timedelta(days=2),
                    sourced_at=datetime(2023, month, 10, 11, tzinfo=LONDON),
                )
            )
    Placement.objects.bulk_create(placements)
    page = browser_page

    sign_in(page, live_server, commissioner_a)
    page.goto(f"{live_server.url}/dashboards/")
    page.get_by_role("link", name="Timeliness of sourcing").click()
    page.get_by_label("From month").fill("2023-01")
    page.get_by_label("To month").fill("2023-03")
    page.get_by_role("button", name="Show figures").click()

    expect(page.get_by_role("figure", name="Timeliness of sourcing by lot")).to_be_visible()
    expect(page.get_by_role("img", name="Lot 1: Older people residential")).to_be_visible()
    table = page.get_by_role("table", name="Placements sourced within target timescales")
    expect(table).to_be_visible()
    march = table.get_by_role("row", name="2023 03")
    assert "25.0% (below target) 1/4" in " ".join(march.inner_text().split())
    assert table.get_by_role("row", name="2023 02").locator("td").first.inner_text().startswith("100.0%")
    assert serious_violations(page) == []

    page.get_by_label("To month").fill("2022-12")
    page.get_by_role("button", name="Show figures").click()
    assert page.get_by_role("alert").get_by_text("The last month must be the same as or after the first month.")
    assert serious_violations(page) == []

    page.get_by_role("button", name="Sign out").click()
    sign_in(page, live_server, broker_a)
    page.get_by_role("link", name="At-risk requests").click()
    expect(page.get_by_role("heading", name="Requests at risk of missing their target")).to_be_visible()
    assert serious_violations(page) == []
