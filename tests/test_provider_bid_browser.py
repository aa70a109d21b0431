"""In a real browser: a provider bids above the council's maximum and is told what that means,
then amends below it and the warning goes; a past start date is refused on its field. Every page
passes axe with no violations."""

import re
from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from bidding.models import Bid
from bidding.services import tender_publish
from quality.models import RatingValue

from .browser import page_as
from .factories import PlacementRequestFactory, admitted_home
from .test_accessibility import wcag_violations


def fill_date(page, name: str, day) -> None:
    page.fill(f"#id_{name}_0", str(day.day))
    page.fill(f"#id_{name}_1", str(day.month))
    page.fill(f"#id_{name}_2", str(day.year))


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_a_provider_bidding_above_the_maximum_is_warned_and_can_amend(
    live_server, browser, council_a, broker_a, provider_a, provider_user_a
):
    admitted_home(council_a, provider=provider_a, rating=RatingValue.GOOD, name="Brook House")
    request = PlacementRequestFactory(commissioner=council_a, created_by=broker_a, max_weekly_rate=Decimal("850.00"))
    tender = tender_publish(actor=broker_a, request=request)
    invitation = tender.invitations.get()
    start = timezone.localdate() + timedelta(days=2)
    page = page_as(browser, live_server, provider_user_a)

    page.goto(f"{live_server.url}/provider/invitations/{invitation.pk}/")
    expect(page.locator("main")).to_contain_text("£850.00 a week")
    expect(page.locator(".govuk-input__prefix").first).to_have_text("£")
    assert wcag_violations(page) == []

    page.fill("#id_weekly_fee", "1200")
    fill_date(page, "earliest_start", start.replace(year=2020))
    page.get_by_label("I confirm the home can meet the needs described").check()
    page.get_by_role("button", name="Submit bid").click()
    summary = page.locator(".govuk-error-summary")
    expect(summary).to_contain_text("The earliest start date must be today or in the future")
    expect(page.locator(".govuk-error-summary")).to_have_count(1)
    assert not Bid.objects.exists()
    assert wcag_violations(page) == []

    fill_date(page, "earliest_start", start)
    page.get_by_role("button", name="Submit bid").click()
    expect(page.get_by_text("Bid submitted.")).to_be_visible()
    warning = page.locator("#above-max-warning")
    expect(warning).to_contain_text("Your bid of £1,200.00 a week is above the council's maximum of £850.00 a week")
    expect(warning).to_contain_text("£350.00 a week must be paid as a top-up")
    expect(page.locator("#own-bid")).to_contain_text("£1,200.00 a week")
    assert wcag_violations(page) == []

    page.fill("#id_weekly_fee", "840.00")
    page.get_by_role("button", name="Amend bid").click()
    expect(page.get_by_text("Bid amended.")).to_be_visible()
    expect(page.locator("#above-max-warning")).to_have_count(0)
    expect(page.locator("#own-bid")).to_contain_text(re.compile(r"£840\.00 a week"))
    assert wcag_violations(page) == []
    assert Bid.objects.get().weekly_fee == Decimal("840.00")
    page.context.close()
