"""In a real browser, the broker's journey by clicking: a request by postcode, published, the invited
homes with their ratings and distances, "Bids ready to award" once the window has closed, the award,
and the placement page. Every page passes axe with no violations and logs no console errors."""

import re
from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from bidding.models import Tender
from bidding.services import bid_submit, tender_close_and_evaluate
from lots.models import Lot
from placements.models import Placement
from providers.models import Postcode
from quality.models import RatingValue

from .browser import page_as
from .factories import admitted_home
from .test_accessibility import wcag_violations


def fill_date(page, name: str, day) -> None:
    page.fill(f"#id_{name}_0", str(day.day))
    page.fill(f"#id_{name}_1", str(day.month))
    page.fill(f"#id_{name}_2", str(day.year))


def no_violations(page) -> None:
    page.wait_for_load_state("networkidle")
    assert wcag_violations(page) == [], page.url


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_broker_requests_by_postcode_sees_invited_homes_awards_and_opens_the_placement(
    live_server, browser, council_a, broker_a, provider_a, provider_b, provider_user_a, provider_user_b
):
    Postcode.objects.create(compact="ST162LL", postcode="ST16 2LL", latitude=52.8065, longitude=-2.1166)
    alder = admitted_home(council_a, provider=provider_a, rating=RatingValue.GOOD, name="Alder House")
    beech = admitted_home(
        council_a, provider=provider_b, rating=RatingValue.OUTSTANDING, name="Beech Court", latitude=52.85
    )
    start = timezone.localdate() + timedelta(days=3)
    page = page_as(browser, live_server, broker_a)

    page.goto(f"{live_server.url}/broker/")
    expect(page.locator("#todo")).to_contain_text("Bids ready to award: 0")
    no_violations(page)
    page.get_by_role("link", name="Request a placement").click()
    page.fill("#id_case_reference", "LAS-4242")
    page.select_option("#id_lot", str(Lot.objects.get(number=1).pk))
    page.fill("#id_needs_summary", "Needs support with mobility and medication.")
    page.fill("#id_postcode", "st16 2ll")
    page.fill("#id_max_distance_km", "20")
    fill_date(page, "needed_from", start)
    page.fill("#id_max_weekly_rate", "900.00")
    page.get_by_role("button", name="Save request").click()
    expect(page.get_by_role("heading", name="Request LAS-4242")).to_be_visible()
    expect(page.locator("#request-status")).to_have_text("Draft")
    no_violations(page)

    page.get_by_role("button", name="Publish to tender").click()
    expect(page.locator("#request-status")).to_contain_text(re.compile(r"^Out to tender \(closes \d\d:\d\d "))
    invited = page.locator("#invited-homes-table tbody tr")
    expect(invited).to_have_count(2)
    expect(invited.nth(0)).to_contain_text("Alder House")
    expect(invited.nth(0)).to_contain_text("Good")
    expect(invited.nth(0)).to_contain_text("0.0 km")
    expect(invited.nth(1)).to_contain_text("Beech Court")
    expect(invited.nth(1)).to_contain_text("Outstanding")
    expect(invited.nth(1)).to_contain_text("4.8 km")
    no_violations(page)

    tender = Tender.objects.get()
    for user, home, fee in ((provider_user_a, alder, "850.00"), (provider_user_b, beech, "860.00")):
        bid_submit(
            actor=user,
            tender=tender,
            care_home=home,
            weekly_fee=Decimal(fee),
            earliest_start=start,
            needs_confirmed=True,
        )
    # The window closes and the close runs as the scheduled task would run it.
    Tender.objects.filter(pk=tender.pk).update(
        opened_at=timezone.now() - timedelta(hours=3), closes_at=timezone.now() - timedelta(seconds=1)
    )
    tender_close_and_evaluate(tender_id=tender.pk)

    page.goto(f"{live_server.url}/broker/")
    page.get_by_role("link", name="Bids ready to award: 1").click()
    ready = page.locator("#ready-to-award + .app-table-scroll")
    expect(ready).to_contain_text("LAS-4242")
    expect(ready).to_contain_text("Bids ready to award")
    no_violations(page)
    ready.get_by_role("link", name="LAS-4242").click()
    expect(page.locator("#request-status")).to_have_text("Bids ready to award")

    page.get_by_label("1. Beech Court", exact=False).check()
    page.get_by_role("button", name="Award placement").click()
    expect(page.get_by_text("Placement awarded.")).to_be_visible()
    expect(page.locator("#request-status")).to_have_text("Awarded: waiting for the home to confirm the bed")
    no_violations(page)

    page.locator("#placement-link").click()
    placement = Placement.objects.get()
    expect(page).to_have_url(f"{live_server.url}/placements/{placement.pk}/")
    expect(page.get_by_role("heading", name="Placement of LAS-4242")).to_be_visible()
    expect(page.locator("#award-details")).to_contain_text("Beech Court")
    expect(page.locator("#award-details")).to_contain_text("It ranked first on quality and price.")
    expect(page.locator("#agreement-versions")).to_contain_text(f"ISA-{placement.pk}-v1")
    expect(page.locator("#fee-history")).to_contain_text("£860.00")
    expect(page.locator("#payment-lines")).to_contain_text("£")
    expect(page.locator("#request-link")).to_have_attribute("href", f"/broker/requests/{placement.request_id}/")
    no_violations(page)
    page.context.close()
