"""The broker's journey from request to award and the provider's from invitation to bid, with the
keyboard alone (Tab, typing, Space and Enter), and error summaries that link to their fields."""

import re
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from bidding.models import Tender
from placements.models import Placement
from quality.models import RatingValue

from .browser import page_as
from .factories import admitted_home, ensure_reference_data, top_up_agreed
from .test_accessibility import wcag_violations

MAX_TABS = 120
# Chromium's date fields take month, day and year typed in that order here.


def tab_to(page, selector: str) -> None:
    """Press Tab until the focused element matches `selector`."""
    for _ in range(MAX_TABS):
        page.keyboard.press("Tab")
        if page.evaluate("(s) => document.activeElement !== null && document.activeElement.matches(s)", selector):
            return
    raise AssertionError(f"{selector} cannot be reached with Tab")


def enter(page) -> None:
    """Press Enter on a link or button that loads another page, and wait for it."""
    with page.expect_navigation():
        page.keyboard.press("Enter")


def tab_and_type(page, selector: str, text: str) -> None:
    tab_to(page, selector)
    page.keyboard.type(text)


def keyboard_page(browser, live_server, user):
    return page_as(browser, live_server, user, locale="en-GB")


@pytest.fixture
def cast(transactional_db):
    ensure_reference_data()


@pytest.mark.browser
def test_broker_and_provider_journeys_need_only_the_keyboard(
    cast, live_server, browser, council_a, broker_a, provider_a, provider_b, provider_user_a, provider_user_b
):
    admitted_home(council_a, provider=provider_a, rating=RatingValue.GOOD, name="Home A")
    admitted_home(council_a, provider=provider_b, rating=RatingValue.OUTSTANDING, name="Home B")
    start = timezone.localdate() + timedelta(days=3)

    page = keyboard_page(browser, live_server, broker_a)
    page.goto(f"{live_server.url}/broker/")
    tab_to(page, "a[href$='/broker/requests/new/']")
    enter(page)
    tab_and_type(page, "#id_case_reference", "KEY-1")
    tab_to(page, "#id_lot")
    page.keyboard.press("Home")
    expect(page.locator("#id_lot option:checked")).to_have_text(re.compile("^Lot 1:"))
    tab_and_type(page, "#id_needs_summary", "Needs support with mobility.")
    tab_and_type(page, "#id_local_authority", "Staffordshire")
    tab_and_type(page, "#id_needed_from_0", str(start.day))
    tab_and_type(page, "#id_needed_from_1", str(start.month))
    tab_and_type(page, "#id_needed_from_2", str(start.year))
    tab_and_type(page, "#id_max_weekly_rate", "850.00")
    tab_to(page, "main [type=submit]")
    enter(page)
    expect(page.get_by_role("heading", name="Request KEY-1")).to_be_visible()
    tab_to(page, "main button[type=submit], main input[type=submit]")
    expect(page.locator(":focus")).to_have_text(re.compile("Publish to tender"))
    enter(page)
    expect(page.locator("#tender-state")).to_have_text("Open")
    tender = Tender.objects.get()
    page.context.close()

    for user, fee in [(provider_user_a, "800.00"), (provider_user_b, "900.00")]:
        page = keyboard_page(browser, live_server, user)
        page.goto(f"{live_server.url}/provider/invitations/")
        tab_to(
            page,
            f"a[href$='/provider/invitations/{tender.invitations.get(care_home__provider=user.organisation).pk}/']",
        )
        enter(page)
        tab_and_type(page, "#id_weekly_fee", fee)
        tab_and_type(page, "#id_earliest_start_0", str(start.day))
        tab_and_type(page, "#id_earliest_start_1", str(start.month))
        tab_and_type(page, "#id_earliest_start_2", str(start.year))
        tab_to(page, "input[type=checkbox]")
        page.keyboard.press("Space")
        tab_to(page, "main [type=submit]")
        enter(page)
        expect(page.get_by_text("Bid submitted.")).to_be_visible()
        page.context.close()

    Tender.objects.filter(pk=tender.pk).update(
        opened_at=timezone.now() - timedelta(hours=3), closes_at=timezone.now() - timedelta(seconds=1)
    )
    # Home B is above the council's maximum: its top-up agreement is recorded first (its own page is tested elsewhere).
    top_up_agreed(tender.request, broker_a, "50.00", payer_name="Her son")
    page = keyboard_page(browser, live_server, broker_a)
    page.goto(f"{live_server.url}/broker/requests/{tender.request_id}/")
    expect(page.locator("#ranked-bids tbody tr").nth(0)).to_contain_text("Home B")
    tab_to(page, "input[type=radio]")
    page.keyboard.press("Space")
    tab_and_type(page, "#id_top_up_payer", "Her son")
    tab_to(page, "main [type=submit]")
    expect(page.locator(":focus")).to_have_text(re.compile("Award placement"))
    enter(page)
    expect(page.get_by_text("Placement awarded.")).to_be_visible()
    page.context.close()
    assert Placement.objects.get().care_home.name == "Home B"


@pytest.mark.browser
def test_a_form_with_errors_shows_a_summary_linked_to_its_fields(cast, live_server, browser, broker_a):
    page = keyboard_page(browser, live_server, broker_a)
    page.goto(f"{live_server.url}/broker/requests/new/")
    # Blank answers that get past the browser's own required check reach the server's validation.
    page.fill("#id_case_reference", " ")
    page.fill("#id_needs_summary", " ")
    page.fill("#id_needed_from_0", "5")
    page.fill("#id_needed_from_1", "1")
    page.fill("#id_needed_from_2", "2026")
    page.locator("main [type=submit]").first.click()

    summary = page.locator(".govuk-error-summary")
    expect(summary).to_be_visible()
    expect(page).to_have_title(re.compile("^Error: "))
    links = summary.locator("a")
    assert links.count() >= 2
    for index in range(links.count()):
        target = links.nth(index).get_attribute("href")
        assert target.startswith("#")
        assert page.locator(target).count() == 1, f"{target} is not a field on the page"
    links.first.click()
    assert page.evaluate("document.activeElement.id") == links.first.get_attribute("href")[1:]
    assert wcag_violations(page) == []
    page.context.close()
