"""In a real browser: a commissioner marks a home as closing, a broker raises the urgent requests and
records a move, the commissioner ends the block contract there, and a provider gives notice."""

from datetime import timedelta

import pytest
from axe_playwright_python.sync_playwright import Axe
from django.utils import timezone
from playwright.sync_api import expect

from closures.models import HandBack, HomeClosure, ResidentMove
from contracts.services import agreement_create_for_placement

from .browser import share_session
from .factories import BlockContractFactory, PaidPlacementFactory, admitted_home


def serious_violations(page) -> list[str]:
    results = Axe().run(page, context="#main-content")
    return [
        (v["id"], [n["html"][:200] for n in v["nodes"]])
        for v in results.response["violations"]
        if v["impact"] in ("serious", "critical")
    ]


def fill_date(scope, day) -> None:
    scope.get_by_label("Day").fill(str(day.day))
    scope.get_by_label("Month").fill(str(day.month))
    scope.get_by_label("Year").fill(str(day.year))


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_closing_a_home_and_moving_a_resident_in_the_browser(
    reference_data, live_server, browser_page, council_a, commissioner_a, broker_a, provider_a
):
    home = admitted_home(council_a, provider=provider_a, name="Willow Court")
    for number in range(2):
        placement = PaidPlacementFactory(commissioner=council_a, care_home=home, case_reference=f"WIL-{number}")
        agreement_create_for_placement(placement=placement, actor=broker_a)
    contract = BlockContractFactory(commissioner=council_a, care_home=home, reference="WIL-BLOCK", beds=2)
    page = browser_page
    today = timezone.localdate()

    share_session(page.context, live_server, commissioner_a)
    page.goto(f"{live_server.url}/closures/new/")
    page.get_by_role("button", name="Mark the home as closing").click()
    expect(page.get_by_role("alert")).to_be_visible()  # the error summary
    page.get_by_label("Care home").select_option(label="Willow Court, Stafford")
    fill_date(page, today + timedelta(days=21))
    page.get_by_label("Why is the home closing?").fill("The provider is in administration.")
    assert serious_violations(page) == []
    page.get_by_role("button", name="Mark the home as closing").click()
    expect(page.locator("body")).to_contain_text("Move plan: Willow Court")
    closure = HomeClosure.objects.get(care_home=home)
    assert closure.residents_at_start == 2
    assert serious_violations(page) == []

    page.get_by_role("link", name="End WIL-BLOCK").click()
    fill_date(page, today)
    page.get_by_label("Why does the contract end?").fill("The home is closing.")
    page.get_by_role("button", name="End the contract").click()
    expect(page.locator("body")).to_contain_text(f"WIL-BLOCK ends on {today:%d/%m/%Y}.")
    contract.refresh_from_db()
    assert contract.end_date == today

    share_session(page.context, live_server, broker_a)
    page.goto(f"{live_server.url}/closures/{closure.pk}/")
    page.get_by_role("button", name="Raise urgent requests for residents still to move").click()
    expect(page.locator("body")).to_contain_text("2 urgent placement requests raised for new homes.")
    assert ResidentMove.objects.filter(new_request__isnull=False).count() == 2

    page.get_by_role("link", name="Update the move of WIL-0").click()
    page.get_by_label("Moved", exact=True).check()
    fill_date(page.get_by_role("group", name="Moved on"), today)
    assert serious_violations(page) == []
    page.get_by_role("button", name="Save the move").click()
    expect(page.locator("body")).to_contain_text("WIL-0: moved.")
    move = ResidentMove.objects.get(placement__case_reference="WIL-0")
    assert move.moved_on == today and move.placement.end_date == today
    assert page.locator("#remaining").inner_text() == "1"

    page.goto(f"{live_server.url}/closures/")
    assert serious_violations(page) == []


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_a_provider_hands_back_a_placement_and_a_block_contract_in_the_browser(
    reference_data, live_server, browser_page, council_a, provider_a, provider_user_a
):
    home = admitted_home(council_a, provider=provider_a, name="Rowan House")
    PaidPlacementFactory(commissioner=council_a, care_home=home, case_reference="ROW-1")
    BlockContractFactory(commissioner=council_a, care_home=home, reference="ROW-BLOCK", beds=1)
    page = browser_page
    notice = timezone.localdate() + timedelta(days=28)

    share_session(page.context, live_server, provider_user_a)
    page.goto(f"{live_server.url}/provider/hand-backs/")
    assert serious_violations(page) == []
    page.get_by_role("link", name="Hand back a placement").click()
    page.get_by_label("Placement").select_option(index=1)
    fill_date(page, notice)
    page.get_by_label("Why are you handing it back?").fill("We can no longer meet their nursing needs.")
    assert serious_violations(page) == []
    page.get_by_role("button", name="Give notice").click()
    expect(page.locator("body")).to_contain_text("Notice given: the council has been told.")

    page.get_by_role("link", name="Hand back a block contract").click()
    page.get_by_label("Block contract").select_option(index=1)
    fill_date(page, notice)
    page.get_by_label("Why are you handing it back?").fill("Staffing.")
    with page.expect_navigation():
        page.get_by_role("button", name="Give notice").click()
    expect(page.locator("body")).to_contain_text("Notice given: the council has been told.")
    assert HandBack.objects.count() == 2
    assert ResidentMove.objects.get().placement.case_reference == "ROW-1"
