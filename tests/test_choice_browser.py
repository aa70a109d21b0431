"""In a real browser: the person or their family records a choice through the shortlist link,
with no sign-in, on a desktop and on a phone; the broker then sees the choice."""

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from fairness.models import ShortlistLink
from fairness.services import shortlist_share

from .browser import page_as
from .fairness_world import evaluated, make_world
from .test_accessibility import wcag_violations

DESKTOP = {"viewport": {"width": 1280, "height": 800}}
PHONE = {"viewport": {"width": 375, "height": 667}, "is_mobile": True, "has_touch": True, "device_scale_factor": 2}


@pytest.fixture
def shortlist(council_a, broker_a, provider_a, provider_b, provider_user_a, provider_user_b):
    world = make_world(council_a, broker_a, provider_a, provider_b, provider_user_a, provider_user_b)
    tender, bids = evaluated(world, {"a": "850.00", "b": "950.00"})
    _link, token = shortlist_share(actor=broker_a, tender=tender, bids=[bids["a"], bids["b"]], recipient="Daughter")
    return tender, bids, token


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("device", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_person_records_a_choice_through_the_link_and_the_broker_sees_it(
    live_server, browser, broker_a, shortlist, device
):
    tender, bids, token = shortlist
    page = page_as(browser, live_server, None, **device)
    assert page.context.cookies() == [], "the person has no session: the link alone opens the page"

    response = page.goto(f"{live_server.url}{reverse('fairness:shortlist', args=[token])}")
    assert response.status == 200
    assert response.headers["referrer-policy"] == "same-origin"
    expect(page.get_by_role("heading", name="Choose a care home")).to_be_visible()
    assert wcag_violations(page) == []
    # On a phone the page fits the screen: each home is a card, and the form fits too.
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")

    page.get_by_label("Beech Court").check()
    page.get_by_label("Your name").fill("Ann Example")
    page.get_by_label("who will pay the top-up?").fill("Ann Example")
    page.get_by_label("The person paying the top-up agrees").check()
    button = page.get_by_role("button", name="Record my choice")
    if device.get("has_touch"):
        button.tap()
    else:
        button.click()

    expect(page.get_by_text("Your choice has been recorded.")).to_be_visible()
    expect(page.locator("#current-choice")).to_contain_text("You chose Beech Court")
    assert wcag_violations(page) == []
    link = ShortlistLink.objects.get()
    assert link.chosen_bid_id == bids["b"].pk and link.chosen_by_name == "Ann Example" and link.top_up_consent
    page.context.close()

    broker = page_as(browser, live_server, broker_a, **device)
    broker.goto(f"{live_server.url}{reverse('fairness:tender_fairness', args=[tender.pk])}")
    expect(broker.locator("#choice")).to_contain_text("Ann Example chose Beech Court")
    expect(broker.locator("#choice")).to_contain_text("Ann Example agreed to pay the top-up")
    broker.context.close()


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_link_the_broker_shares_from_the_page_works_for_the_person(live_server, browser, broker_a, shortlist):
    tender, _bids, _token = shortlist
    broker = page_as(browser, live_server, broker_a)
    broker.goto(f"{live_server.url}{reverse('fairness:tender_fairness', args=[tender.pk])}")
    broker.get_by_label("Who the link is for").fill("Son")
    broker.get_by_role("button", name="Create link").click()
    shared = broker.locator("#new-link").inner_text().strip()
    assert "/choice/" in shared
    broker.context.close()

    page = page_as(browser, live_server, None, **PHONE)
    page.goto(shared)
    page.get_by_label("Alder House").check()
    page.get_by_label("Your name").fill("Sam Example")
    page.get_by_role("button", name="Record my choice").tap()
    expect(page.get_by_text("Your choice has been recorded.")).to_be_visible()
    page.context.close()
    assert ShortlistLink.objects.filter(chosen_by_name="Sam Example").exists()
