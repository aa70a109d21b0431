"""In a real browser: a provider opens its home, follows "Submit a return", sends a return with one
negative number (refused on that field), corrects it and sees the return listed; the body's
commissioner finds it in its returns and accepts it. Every page passes axe with no violations."""

import pytest
from playwright.sync_api import expect

from quality.models import ProviderReturn, ReturnMeasure

from .browser import page_as
from .factories import admitted_home
from .test_accessibility import wcag_violations

ANSWERS = {
    "Staff in post": "42",
    "Staff vacancies": "3",
    "Agency hours in the period": "120.5",
    "Staff trained in safeguarding": "95",
    "Falls": "-4",
    "Hospital admissions": "1",
    "Complaints received": "0",
}


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_a_provider_submits_a_return_corrects_a_field_and_the_body_accepts_it(
    live_server, browser, council_a, commissioner_a, provider_a, provider_user_a
):
    home = admitted_home(council_a, provider=provider_a, name="Brook House")
    page = page_as(browser, live_server, provider_user_a)
    page.goto(f"{live_server.url}/provider/homes/{home.pk}/")
    page.get_by_role("link", name="Submit a return").click()
    expect(page.get_by_role("heading", name="Submit a return")).to_be_visible()
    assert wcag_violations(page) == []
    # Showing the form writes nothing: the body's default measures are kept when the return is sent.
    assert not ReturnMeasure.objects.exists()

    page.get_by_label("Period", exact=True).fill("2026-Q3")
    for name, value in ANSWERS.items():
        page.get_by_label(name, exact=True).fill(value)
    page.get_by_role("button", name="Submit return").click()
    expect(page.locator(".govuk-error-summary")).to_contain_text("Falls cannot be negative.")
    expect(page.locator(".govuk-form-group--error")).to_have_count(1)
    expect(page.locator(".govuk-form-group--error")).to_contain_text("Falls cannot be negative.")
    assert wcag_violations(page) == []
    assert not ProviderReturn.objects.exists()

    page.get_by_label("Falls", exact=True).fill("4")
    page.get_by_role("button", name="Submit return").click()
    expect(page.get_by_text(f"Return for 2026-Q3 sent to {council_a.name}.")).to_be_visible()
    expect(page.get_by_role("link", name="2026-Q3")).to_be_visible()
    assert ProviderReturn.objects.get().answers.get(measure__name="Falls").value == 4

    body = page_as(browser, live_server, commissioner_a)
    body.goto(f"{live_server.url}/commissioner/returns/")
    assert wcag_violations(body) == []
    body.get_by_role("link", name="Brook House").click()
    expect(body.get_by_role("cell", name="120.5")).to_be_visible()
    assert wcag_violations(body) == []
    body.get_by_role("button", name="Accept return").click()
    expect(body.get_by_text("Return accepted.")).to_be_visible()
    assert ProviderReturn.objects.get().accepted_at is not None


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_a_commissioner_keeps_the_bodys_measures_in_the_browser(live_server, browser, council_a, commissioner_a):
    page = page_as(browser, live_server, commissioner_a)
    page.goto(f"{live_server.url}/commissioner/returns/")
    page.get_by_role("link", name="Choose the measures homes report").click()
    expect(page.get_by_role("heading", name="Return measures")).to_be_visible()
    assert wcag_violations(page) == []

    page.get_by_label("Measure", exact=True).fill("Night staff")
    page.get_by_role("button", name="Add measure").click()
    expect(page.locator(".govuk-error-summary")).to_contain_text("Choose what kind of figure the measure is.")
    assert wcag_violations(page) == []
    assert not ReturnMeasure.objects.exists()

    page.get_by_label("Kind of figure").select_option(label="Whole number")
    page.get_by_label("Unit (optional)").fill("people")
    page.get_by_role("button", name="Add measure").click()
    expect(page.get_by_text("Night staff added: returns from now on ask for it.")).to_be_visible()
    assert ReturnMeasure.objects.get(name="Night staff").unit == "people"

    page.get_by_role("button", name="Retire Falls").click()
    expect(page.get_by_text("Falls retired: later returns leave it out.")).to_be_visible()
    assert ReturnMeasure.objects.get(name="Falls").active is False
    assert wcag_violations(page) == []
