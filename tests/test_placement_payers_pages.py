"""The placement page's payers: brokers record absences, returns and deaths and change who pays
from a date; the page shows the shares in force, the absences, the death and the payment rules."""

import datetime as dt
from decimal import Decimal

import pytest
from axe_playwright_python.sync_playwright import Axe
from django.utils import timezone
from playwright.sync_api import expect

from contracts.models import Absence, Death, FundingShare, PayerType, PaymentRules
from contracts.selectors import shares_on
from contracts.services import absence_record, agreement_create_for_placement
from core.models import AuditEvent
from organisations.models import Organisation

from .browser import share_session
from .factories import OrganisationFactory, PaidPlacementFactory

D = Decimal


def _date(prefix: str, day: dt.date) -> dict:
    return {f"{prefix}_0": day.day, f"{prefix}_1": day.month, f"{prefix}_2": day.year}


@pytest.fixture
def placement(council_a, broker_a):
    placement = PaidPlacementFactory(
        commissioner=council_a, case_reference="PAYERS-1", council_weekly_amount=D("700.00")
    )
    agreement_create_for_placement(placement=placement, actor=broker_a)
    return placement


@pytest.mark.django_db
def test_the_placement_page_shows_the_shares_the_absences_the_death_and_the_rules(
    placement, council_a, broker_a, as_user
):
    PaymentRules.objects.create(
        commissioner=council_a, absence_full_weeks=4, absence_reduced_percent=D("75"), death_paid_days=2
    )
    absence_record(placement=placement, starts_on=dt.date.today() - dt.timedelta(days=10), by=broker_a)
    page = as_user(broker_a).get(f"/placements/{placement.pk}/").content.decode()
    assert "Council" in page and "£700.00" in page
    assert "the full fee for the first 4 weeks of an absence, then 75%; the fee for 2 days after a death" in page
    full_to = dt.date.today() - dt.timedelta(days=10) + dt.timedelta(weeks=4, days=-1)
    assert f"Full fee to {full_to:%-d %B %Y}, then 75% of the fee while away" in page
    assert "Record the return" in page and "Change who pays from a date" in page


@pytest.mark.django_db
def test_a_provider_sees_the_payers_but_no_actions(placement, provider_user_a, as_user):
    placement.care_home.provider = provider_user_a.organisation
    placement.care_home.save()
    page = as_user(provider_user_a).get(f"/placements/{placement.pk}/").content.decode()
    assert "Who pays" in page and "Change who pays" not in page and "Record an absence" not in page
    assert as_user(provider_user_a).get(f"/placements/{placement.pk}/absences/new/").status_code == 403


@pytest.mark.django_db
def test_another_body_cannot_record_an_absence(placement, broker_b, as_user):
    response = as_user(broker_b).post(
        f"/placements/{placement.pk}/absences/new/", {"kind": "hospital", **_date("starts_on", dt.date.today())}
    )
    assert response.status_code == 404
    assert not Absence.objects.exists()


@pytest.mark.django_db
def test_an_absence_outside_the_placement_is_refused_on_its_field(placement, broker_a, as_user):
    before = placement.start_date - dt.timedelta(days=5)
    response = as_user(broker_a).post(
        f"/placements/{placement.pk}/absences/new/", {"kind": "hospital", **_date("starts_on", before)}
    )
    assert response.status_code == 400
    assert response.context["form"].errors == {"starts_on": ["The absence must start while the person is placed."]}
    assert not Absence.objects.exists()


@pytest.mark.django_db
def test_a_second_death_is_refused_on_the_form(placement, broker_a, as_user):
    client = as_user(broker_a)
    day = dt.date.today() - dt.timedelta(days=2)
    assert client.post(f"/placements/{placement.pk}/death/", _date("died_on", day)).status_code == 302
    response = client.post(f"/placements/{placement.pk}/death/", _date("died_on", day))
    assert response.status_code == 400
    assert "A death is already recorded for this placement." in response.content.decode()
    assert Death.objects.get().died_on == day
    assert AuditEvent.objects.filter(verb="contracts.death.recorded").count() == 1


@pytest.mark.django_db
def test_shares_that_do_not_add_up_are_shown_on_the_share_and_nothing_is_written(placement, broker_a, as_user):
    start = timezone.localdate()
    response = as_user(broker_a).post(
        f"/placements/{placement.pk}/funding/",
        {
            **_date("effective_from", start),
            "share_1_payer_type": "council",
            "share_1_route": "gross",
            "share_1_weekly_amount": "600.00",
            "share_2_payer_type": "contribution",
            "share_2_payer_name": "Mr Payers",
            "share_2_route": "net",
            "share_2_weekly_amount": "50.00",
            **{f"share_{i}_route": "gross" for i in (3, 4, 5)},
            "reason": "Financial assessment",
        },
    )
    assert response.status_code == 400
    errors = response.context["form"].errors
    assert list(errors) == ["share_1_weekly_amount"]
    assert "add up to £650.00 a week, but the weekly fee is £700.00" in errors["share_1_weekly_amount"][0]
    assert not FundingShare.objects.filter(reason=FundingShare.Reason.CHANGE).exists()


def _sign_in(page, live_server, user):
    share_session(page.context, live_server, user)


def _serious(page) -> list:
    results = Axe().run(page, context="#main-content")
    return [v["id"] for v in results.response["violations"] if v["impact"] in ("serious", "critical")]


def _fill_date(page, legend: str, day: dt.date) -> None:
    group = page.get_by_role("group", name=legend)
    group.get_by_label("Day").fill(str(day.day))
    group.get_by_label("Month").fill(str(day.month))
    group.get_by_label("Year").fill(str(day.year))


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_a_broker_records_an_absence_the_return_and_a_death_in_a_browser(
    reference_data, live_server, browser_page, council_a, broker_a
):
    placement = PaidPlacementFactory(commissioner=council_a, case_reference="PAYERS-B1")
    agreement_create_for_placement(placement=placement, actor=broker_a)
    page = browser_page
    _sign_in(page, live_server, broker_a)
    page.goto(f"{live_server.url}/placements/{placement.pk}/")
    page.get_by_role("link", name="Record an absence").click()
    page.get_by_label("Hospital admission").check()
    away = timezone.localdate() - dt.timedelta(days=20)
    _fill_date(page, "First day away", away)
    page.get_by_label("Note (optional)").fill("Fall at home")
    assert _serious(page) == []
    page.get_by_role("button", name="Record the absence").click()
    expect(page.locator("body")).to_contain_text("Absence recorded")
    assert "still away" in page.locator("#absence-list").inner_text()

    page.get_by_role("link", name="Record the return").click()
    _fill_date(page, "Last day away", away - dt.timedelta(days=1))
    page.get_by_role("button", name="Record the return").click()
    assert "The absence cannot end before it starts." in page.locator(".govuk-error-summary").inner_text()
    _fill_date(page, "Last day away", away + dt.timedelta(days=6))
    page.get_by_role("button", name="Record the return").click()
    assert f"to {away + dt.timedelta(days=6):%-d %B %Y}" in page.locator("#absence-list").inner_text()

    page.get_by_role("link", name="Record a death").click()
    died = timezone.localdate() - dt.timedelta(days=3)
    _fill_date(page, "Date of death", died)
    page.get_by_role("button", name="Record the death").click()
    assert f"Died on {died:%-d %B %Y}. Paid for 3 days after the death" in page.locator("#death").inner_text()
    placement.refresh_from_db()
    assert placement.end_date == died
    assert Absence.objects.get(placement=placement).ends_on == away + dt.timedelta(days=6)


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_a_broker_changes_who_pays_in_a_browser_and_sees_the_refusal_first(
    reference_data, live_server, browser_page, council_a, broker_a
):
    icb = OrganisationFactory(kind=Organisation.Kind.NHS, name="Staffordshire ICB", slug="staffs-icb")
    placement = PaidPlacementFactory(commissioner=council_a, case_reference="PAYERS-B2", council_weekly_amount=D("800"))
    agreement_create_for_placement(placement=placement, actor=broker_a)
    page = browser_page
    _sign_in(page, live_server, broker_a)
    page.goto(f"{live_server.url}/placements/{placement.pk}/")
    page.get_by_role("link", name="Change who pays from a date").click()
    assert page.get_by_label("Share 1: weekly amount").input_value() == "800.00"
    page.get_by_label("Share 1: weekly amount").fill("600.00")
    page.get_by_label("Share 2: who pays").select_option("fnc")
    page.get_by_label("Share 2: NHS body").select_option(label="Staffordshire ICB")
    page.get_by_label("Share 2: how it is paid").select_option("net")
    page.get_by_label("Share 2: weekly amount").fill("150.00")
    page.get_by_label("Why who pays is changing").fill("Nursing needs assessed")
    assert _serious(page) == []
    page.get_by_role("button", name="Change who pays").click()
    summary = page.locator(".govuk-error-summary").inner_text()
    assert "add up to £750.00 a week, but the weekly fee is £800.00" in summary
    assert _serious(page) == []
    page.get_by_label("Share 1: weekly amount").fill("650.00")
    page.get_by_role("button", name="Change who pays").click()
    expect(page.locator("body")).to_contain_text("Who pays is changed from that date")
    shares = page.locator("#current-shares").inner_text()
    assert "Staffordshire ICB" in shares and "£150.00" in shares and "£650.00" in shares
    today = timezone.localdate()
    assert {(s.payer_type, s.weekly_amount) for s in shares_on(placement, today)} == {
        (PayerType.COUNCIL, D("650.00")),
        (PayerType.FNC, D("150.00")),
    }
    assert next(s for s in shares_on(placement, today) if s.payer_type == PayerType.FNC).payer_organisation_id == icb.pk
