"""In a real browser: a provider reports bed vacancies, sees them go stale and confirms "no change" in
one click, closes its home to admissions (a refusal first, on its field) and lifts the closure; a
broker finds the vacancy near a postcode. Every page passes axe with no violations."""

from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from providers.models import AdmissionClosure, BedVacancy, Postcode

from .browser import page_as
from .factories import admitted_home
from .test_accessibility import wcag_violations


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_a_provider_keeps_bed_vacancies_confirms_them_and_closes_the_home(
    live_server, browser, council_a, broker_a, provider_a, provider_user_a
):
    home = admitted_home(council_a, provider=provider_a, name="Brook House")
    Postcode.objects.create(compact="ST162LL", postcode="ST16 2LL", latitude=52.8065, longitude=-2.1166)
    page = page_as(browser, live_server, provider_user_a)

    page.goto(f"{live_server.url}/provider/homes/{home.pk}/")
    page.get_by_role("link", name="Update bed vacancies").click()
    assert wcag_violations(page) == []
    # A row without a lot or setting is refused on its field, and nothing is saved.
    page.select_option("#id_beds-0-room_type", "single")
    page.fill("#id_beds-0-beds", "2")
    page.get_by_role("button", name="Save and confirm bed vacancies").click()
    expect(page.locator(".govuk-error-summary")).to_contain_text("Choose a lot or a setting")
    assert not BedVacancy.objects.exists()
    assert wcag_violations(page) == []

    page.select_option("#id_beds-0-lot", label="Lot 1: Older people residential")
    page.check("#id_beds-0-en_suite")
    page.check("#id_beds-0-ground_floor")
    page.select_option("#id_beds-0-gender", "female")
    page.get_by_role("button", name="Save and confirm bed vacancies").click()
    expect(page.get_by_text("Bed vacancies saved and confirmed as current.")).to_be_visible()
    row = page.get_by_role("region", name="Free beds by kind").locator("tbody tr").first
    expect(row).to_contain_text("Single room, en-suite, ground floor, women only")
    expect(row).to_contain_text("Fresh")
    vacancy = BedVacancy.objects.get()
    assert (vacancy.beds, vacancy.en_suite, vacancy.gender) == (2, True, "female")

    # A day and more later it is stale; one click confirms it again.
    BedVacancy.objects.update(confirmed_at=timezone.now() - timedelta(hours=26))
    page.reload()
    expect(row).to_contain_text("Stale")
    assert wcag_violations(page) == []
    page.get_by_role("button", name="Confirm no change").click()
    expect(page.get_by_text("1 bed vacancy rows confirmed as current")).to_be_visible()
    expect(page.get_by_role("region", name="Free beds by kind").locator("tbody tr").first).to_contain_text("Fresh")
    vacancy.refresh_from_db()
    assert timezone.now() - vacancy.confirmed_at < timedelta(minutes=5)

    # Closing the home: "Other" needs details; then an outbreak closes it.
    page.get_by_role("link", name="Closed to admissions").click()
    assert wcag_violations(page) == []
    page.get_by_label("Other").check()
    page.get_by_role("button", name="Close to admissions").click()
    expect(page.locator(".govuk-error-summary")).to_contain_text("Say why the home is closed to admissions")
    assert not AdmissionClosure.objects.exists()
    assert wcag_violations(page) == []
    page.get_by_label("Infection outbreak").check()
    page.get_by_label("Details").fill("Norovirus on the first floor")
    page.get_by_role("button", name="Close to admissions").click()
    expect(page.get_by_text("Brook House is closed to admissions.")).to_be_visible()
    expect(page.locator("table")).to_contain_text("Norovirus on the first floor")
    closure = AdmissionClosure.objects.get()
    assert closure.commissioner is None and closure.reason == "outbreak"

    # The broker's search near the postcode leaves the closed home out.
    broker = page_as(browser, live_server, broker_a)
    broker.goto(f"{live_server.url}/vacancies/search/?postcode=ST16+2LL&within_km=10")
    expect(broker.locator("#vacancies")).to_contain_text("No free beds match")

    # Lifting needs a reason.
    page.get_by_role("link", name="Lift").click()
    assert wcag_violations(page) == []
    page.get_by_role("button", name="Lift the closure").click()
    expect(page.locator(".govuk-error-summary")).to_be_visible()
    page.get_by_label("Why can the home take admissions again?").fill("Outbreak over: 72 hours without symptoms")
    page.get_by_role("button", name="Lift the closure").click()
    expect(page.get_by_text("Brook House is open to admissions again.")).to_be_visible()
    closure.refresh_from_db()
    assert closure.lifted_by == provider_user_a

    broker.reload()
    expect(broker.locator("#vacancies")).to_contain_text("Brook House")
    expect(broker.locator("#vacancies")).to_contain_text("Fresh")
    assert wcag_violations(broker) == []
