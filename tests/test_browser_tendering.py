"""In a real browser: a broker requests, publishes and awards; providers bid, amend and see the outcome."""

import re
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from bidding.models import Tender
from lots.models import Lot
from placements.models import Placement
from quality.models import RatingValue

from .browser import share_session
from .factories import admitted_home


def sign_in(page, live_server, user):
    share_session(page.context, live_server, user)


def fill_date(page, name: str, day) -> None:
    """GOV.UK's date input: the day, month and year boxes."""
    page.fill(f"#id_{name}_0", str(day.day))
    page.fill(f"#id_{name}_1", str(day.month))
    page.fill(f"#id_{name}_2", str(day.year))


def bid_through_portal(page, live_server, *, fee: str, start):
    page.goto(f"{live_server.url}/provider/invitations/")
    page.get_by_role("link", name=re.compile(r"^Tender \d+")).first.click()
    page.fill("#id_weekly_fee", fee)
    fill_date(page, "earliest_start", start)
    page.get_by_label("I confirm the home can meet the needs described").check()
    page.get_by_role("button", name="Submit bid").click()
    expect(page.get_by_text("Bid submitted.")).to_be_visible()


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_broker_and_providers_tender_and_award_through_the_pages(
    live_server,
    browser_page,
    council_a,
    broker_a,
    provider_a,
    provider_b,
    provider_user_a,
    provider_user_b,
):
    admitted_home(council_a, provider=provider_a, rating=RatingValue.GOOD, name="Home A")
    admitted_home(council_a, provider=provider_b, rating=RatingValue.OUTSTANDING, name="Home B")
    page = browser_page
    start = timezone.localdate() + timedelta(days=3)

    sign_in(page, live_server, broker_a)
    page.goto(f"{live_server.url}/broker/")
    page.get_by_role("link", name="Request a placement").click()
    page.fill("#id_case_reference", "LAS-9001")
    page.select_option("#id_lot", str(Lot.objects.get(number=1).pk))
    page.fill("#id_needs_summary", "Needs support with mobility and medication.")
    page.fill("#id_local_authority", "Staffordshire")
    fill_date(page, "needed_from", start)
    page.fill("#id_max_weekly_rate", "850.00")
    page.get_by_role("button", name="Save request").click()
    expect(page.get_by_role("heading", name="Request LAS-9001")).to_be_visible()
    page.get_by_role("button", name="Publish to tender").click()
    expect(page.locator("#tender-state")).to_have_text("Open")
    expect(page.get_by_text("Bids are sealed until the tender closes")).to_be_visible()
    tender = Tender.objects.get()

    sign_in(page, live_server, provider_user_a)
    bid_through_portal(page, live_server, fee="800.00", start=start)
    page.fill("#id_weekly_fee", "790.00")
    page.get_by_role("button", name="Amend bid").click()
    expect(page.get_by_text("Bid amended.")).to_be_visible()
    expect(page.locator("#own-bid")).to_contain_text("£790.00")
    expect(page.get_by_text("LAS-9001")).to_have_count(0)

    sign_in(page, live_server, provider_user_b)
    bid_through_portal(page, live_server, fee="900.00", start=start)

    # The deadline passes; no worker runs in this test.
    Tender.objects.filter(pk=tender.pk).update(
        opened_at=timezone.now() - timedelta(hours=3), closes_at=timezone.now() - timedelta(seconds=1)
    )
    page.reload()
    expect(page.locator("#tender-state")).to_have_text("Closed")
    expect(page.get_by_role("button", name="Amend bid")).to_have_count(0)

    sign_in(page, live_server, broker_a)
    page.goto(f"{live_server.url}/broker/requests/{tender.request_id}/")
    ranking = page.locator("#ranked-bids tbody tr")
    expect(ranking).to_have_count(2)
    expect(ranking.nth(0)).to_contain_text("Home B")
    expect(ranking.nth(1)).to_contain_text("Home A")
    expect(ranking.nth(0)).to_contain_text("Above maximum rate")
    page.get_by_label("2. Home A", exact=False).check()
    page.get_by_role("button", name="Award placement").click()
    expect(page.locator(".govuk-error-summary")).to_contain_text("did not rank first")
    page.get_by_label("1. Home B", exact=False).check()
    page.fill("#id_top_up_payer", "Her son")
    page.get_by_role("button", name="Award placement").click()
    # Home B is £50.00 above the council's maximum: no award without the signed, affordable top-up agreement.
    expect(page.locator(".govuk-error-summary")).to_contain_text("record the payer's signed top-up agreement")
    expect(page.get_by_text("Placement awarded.")).to_have_count(0)
    page.get_by_role("link", name="record the top-up agreement").click()
    page.fill("#id_payer_name", "Her son")
    page.fill("#id_relationship", "Son")
    page.fill("#id_weekly_amount", "50.00")
    fill_date(page, "starts_on", start)
    page.get_by_label("Signed on paper").check()
    fill_date(page, "signed_on", timezone.localdate())
    page.get_by_role("button", name="Record the top-up agreement").click()
    expect(page.locator(".govuk-error-summary")).to_contain_text("Confirm you have checked the payer can afford")
    page.get_by_label("I have checked the payer can afford the top-up", exact=False).check()
    page.get_by_role("button", name="Record the top-up agreement").click()
    expect(page.get_by_text("Top-up agreement recorded.")).to_be_visible()
    page.get_by_label("1. Home B", exact=False).check()
    page.get_by_role("button", name="Award placement").click()
    expect(page.get_by_text("Placement awarded.")).to_be_visible()
    expect(page.locator("#award-summary")).to_contain_text("Home B")
    expect(page.locator("#award-summary")).to_contain_text("top-up £50.00 paid by Her son")
    expect(page.locator("#timeline")).to_contain_text("Awarded")
    expect(page.locator("#timeline")).to_contain_text("Bid amended")

    sign_in(page, live_server, provider_user_b)
    page.goto(f"{live_server.url}/provider/invitations/")
    expect(page.locator("table")).to_contain_text("Won: ranked 1")
    page.get_by_role("link", name=re.compile(r"^Tender \d+")).first.click()
    expect(page.locator("#outcome")).to_contain_text("ranked 1")
    expect(page.get_by_text("LAS-9001")).to_be_visible()

    placement = Placement.objects.get()
    assert (placement.weekly_fee, placement.council_weekly_amount, placement.top_up_weekly_amount) == (
        900,
        850,
        50,
    )
    assert placement.top_up_agreements.get().payer_name == "Her son"
