"""In a real browser: the utilisation page and a contract's beds pass axe, and a provider reports a void."""

from datetime import timedelta

import pytest
from axe_playwright_python.sync_playwright import Axe
from django.utils import timezone
from playwright.sync_api import expect

from blockbeds.services import block_bed_fill

from .browser import share_session
from .factories import BlockContractFactory, BlockRequestFactory, CareHomeFactory


def sign_in(page, live_server, user):
    share_session(page.context, live_server, user)


def serious_violations(page) -> list[str]:
    # The page's own content; the shared header and footer are checked with the layout.
    results = Axe().run(page, context="#main-content")
    return [
        (v["id"], [n["html"][:200] for n in v["nodes"]])
        for v in results.response["violations"]
        if v["impact"] in ("serious", "critical")
    ]


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_utilisation_and_contract_pages_are_accessible_and_a_provider_reports_a_void(
    reference_data, live_server, browser_page, council_a, commissioner_a, broker_a, provider_a, provider_user_a
):
    home = CareHomeFactory(provider=provider_a, name="Brook House")
    contract = BlockContractFactory(commissioner=council_a, care_home=home, reference="STAFFS-A", beds=3)
    bed = contract.beds.order_by("label").first()
    request = BlockRequestFactory(commissioner=council_a, created_by=broker_a)
    block_bed_fill(bed=bed, request=request, actor=broker_a, start_date=timezone.localdate() - timedelta(days=20))
    page = browser_page

    sign_in(page, live_server, commissioner_a)
    page.goto(f"{live_server.url}/block-contracts/utilisation/")
    assert page.locator('[data-figure="filled"]').inner_text() == "1"
    expect(page.get_by_role("img", name="Block bed occupancy rate by month")).to_be_visible()
    assert serious_violations(page) == []
    page.goto(f"{live_server.url}/block-contracts/{contract.pk}/")
    assert serious_violations(page) == []

    sign_in(page, live_server, provider_user_a)
    page.goto(f"{live_server.url}/block-beds/{bed.pk}/")
    page.get_by_role("link", name="Report the bed void").click()
    today = timezone.localdate()
    page.get_by_label("Day").fill(str(today.day))
    page.get_by_label("Month").fill(str(today.month))
    page.get_by_label("Year").fill(str(today.year))
    page.get_by_label("Why did the stay end?").fill("Moved closer to family")
    assert serious_violations(page) == []
    page.get_by_role("button", name="Report the bed void").click()
    expect(page.locator("body")).to_contain_text("The stay has ended and the bed is void.")
    expect(page.get_by_text("Moved closer to family").first).to_be_visible()


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_a_broker_sees_block_beds_first_and_places_the_person_there(
    reference_data, live_server, browser_page, council_a, broker_a, provider_a
):
    home = CareHomeFactory(provider=provider_a, name="Meadowbank")
    contract = BlockContractFactory(commissioner=council_a, care_home=home, reference="STAFFS-D2A", beds=1)
    request = BlockRequestFactory(commissioner=council_a, created_by=broker_a, case_reference="LAS-123456")
    page = browser_page

    sign_in(page, live_server, broker_a)
    page.goto(f"{live_server.url}/broker/requests/{request.pk}/")
    offer = page.get_by_role("region", name="Block beds first")
    expect(offer).to_be_visible()
    assert "Meadowbank" in offer.inner_text()
    assert serious_violations(page) == []
    offer.get_by_role("link", name="Place here").click()
    today = timezone.localdate()
    page.get_by_label("Day").fill(str(today.day))
    page.get_by_label("Month").fill(str(today.month))
    page.get_by_label("Year").fill(str(today.year))
    page.get_by_role("button", name="Place in this bed").click()

    assert page.url.endswith(f"/broker/requests/{request.pk}/")
    assert page.locator("#request-status").inner_text() == "Placed"
    expect(page.locator("body")).to_contain_text("LAS-123456 placed in bed 001 at Meadowbank.")
    assert contract.beds.get().occupancies.get().placement.request_id == request.pk
