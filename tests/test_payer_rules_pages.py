"""The commissioner's pages for who pays: the body's absence and death payment rules (audited), the
national FNC rates (recorded from a date, then applied to the nursing placements by a queued task
that audits its progress) and the outcome payment rules."""

import datetime as dt
import time
from decimal import Decimal

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import expect

from contracts.models import FncRate, OutcomePaymentRule, PayerType, PaymentRules, Route
from contracts.selectors import Share, fnc_rate_rows, shares_on
from contracts.services import (
    FNC_PROGRESS_EVERY,
    agreement_create_for_placement,
    fnc_rate_apply_queued,
    fnc_rate_record,
    funding_shares_change,
)
from core.models import AuditEvent
from organisations.models import Organisation

from .browser import share_session
from .factories import BlockContractFactory, OrganisationFactory, PaidPlacementFactory, lot

D = Decimal


def _date(prefix: str, day: dt.date) -> dict:
    return {f"{prefix}_0": day.day, f"{prefix}_1": day.month, f"{prefix}_2": day.year}


def _nursing_placement(council, broker, icb, fnc="200.00"):
    placement = PaidPlacementFactory(
        commissioner=council, lot=lot(6), start_date=dt.date(2026, 1, 5), council_weekly_amount=D("900.00")
    )
    agreement_create_for_placement(placement=placement, actor=broker)
    funding_shares_change(
        placement=placement,
        effective_from=placement.start_date,
        shares=[
            Share(PayerType.COUNCIL, D("900.00") - D(fnc)),
            Share(PayerType.FNC, D(fnc), Route.NET, payer_organisation_id=icb.pk),
        ],
        reason="Nursing needs",
        by=broker,
    )
    return placement


@pytest.mark.django_db
def test_payment_rules_are_the_commissioner_s_and_each_change_is_audited(commissioner_a, broker_a, council_a, as_user):
    assert as_user(broker_a).get("/commissioner/payment-rules/").status_code == 403
    client = as_user(commissioner_a)
    assert "These are the defaults" in client.get("/commissioner/payment-rules/").content.decode()
    response = client.post(
        "/commissioner/payment-rules/",
        {"absence_full_weeks": "4", "absence_reduced_percent": "120", "death_paid_days": "2"},
    )
    assert response.status_code == 400 and list(response.context["form"].errors) == ["absence_reduced_percent"]
    assert not PaymentRules.objects.exists()
    response = client.post(
        "/commissioner/payment-rules/",
        {"absence_full_weeks": "4", "absence_reduced_percent": "75", "death_paid_days": "2"},
    )
    assert response.status_code == 302
    rules = PaymentRules.objects.get(commissioner=council_a)
    assert (rules.absence_full_weeks, rules.absence_reduced_percent, rules.death_paid_days) == (4, D("75"), 2)
    event = AuditEvent.objects.get(verb="contracts.payment_rules.updated")
    assert event.detail["before"].startswith("Full fee for 6 weeks") and event.detail["after"].startswith(
        "Full fee for 4 weeks"
    )
    assert "Full fee for 6 weeks" in client.get("/commissioner/payment-rules/").content.decode()


@pytest.mark.django_db
def test_an_fnc_rate_s_progress_is_audited_and_shown(council_a, broker_a, commissioner_a, monkeypatch):
    icb = OrganisationFactory(kind=Organisation.Kind.NHS, name="ICB", slug="icb-progress")
    placements = [_nursing_placement(council_a, broker_a, icb) for _ in range(3)]
    monkeypatch.setattr("contracts.services.FNC_PROGRESS_EVERY", 2)
    rate = fnc_rate_record(effective_from=dt.date(2026, 4, 1), weekly_rate=D("250.00"), by=commissioner_a)
    assert fnc_rate_rows()[0].status == "Not applied yet"
    assert fnc_rate_apply_queued(rate_id=rate.pk) == 3
    progress = AuditEvent.objects.filter(verb="contracts.fnc_rate.progress").values_list("detail", flat=True)
    assert list(progress) == [{"done": 2, "total": 3}]
    assert fnc_rate_rows()[0].status == "Applied: 3 nursing placements changed"
    for placement in placements:
        fnc = next(s for s in shares_on(placement, dt.date(2026, 4, 1)) if s.payer_type == PayerType.FNC)
        assert fnc.weekly_amount == D("250.00")
    assert FNC_PROGRESS_EVERY == 100


@pytest.mark.django_db
def test_outcome_rules_are_listed_for_the_body_and_refused_on_their_fields(
    commissioner_a, commissioner_b, council_b, broker_a, as_user
):
    theirs = BlockContractFactory(commissioner=council_b, reference="THEIRS", beds=1)
    client = as_user(commissioner_a)
    response = client.post(
        "/commissioner/outcome-payments/new/",
        {"outcome": "home", "amount": "150", "description": "Home", "within_assessment_period": "on"},
    )
    assert response.status_code == 400
    assert response.context["form"].errors == {"lot": ["Choose a lot or a block contract."]}
    response = client.post(
        "/commissioner/outcome-payments/new/",
        {"outcome": "home", "amount": "150", "description": "Home", "block_contract": theirs.pk},
    )
    assert response.status_code == 400 and "block_contract" in response.context["form"].errors
    assert not OutcomePaymentRule.objects.exists()
    assert as_user(broker_a).get("/commissioner/outcome-payments/new/").status_code == 403
    assert as_user(commissioner_b).get("/commissioner/outcome-payments/").status_code == 200


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
def test_a_commissioner_sets_the_payment_rules_and_an_outcome_rule_in_a_browser(
    reference_data, live_server, browser_page, council_a, commissioner_a
):
    page = browser_page
    share_session(page.context, live_server, commissioner_a)
    page.goto(f"{live_server.url}/")
    page.get_by_role("link", name="Payment rules").first.click()
    page.get_by_label("Weeks of an absence paid at the full fee").fill("8")
    page.get_by_label("Percentage of the fee paid after that, while the resident is away").fill("150")
    page.get_by_label("Days paid after a resident's death").fill("5")
    page.get_by_role("button", name="Save the payment rules").click()
    assert "100" in page.locator(".govuk-error-summary").inner_text()
    assert _serious(page) == []
    page.get_by_label("Percentage of the fee paid after that, while the resident is away").fill("70")
    page.get_by_role("button", name="Save the payment rules").click()
    assert (
        "Full fee for 8 weeks of absence then 70.00%; 5 days after a death" in page.locator("#rules-now").inner_text()
    )
    expect(page.locator("#rule-changes")).to_be_visible()

    page.get_by_role("link", name="Outcome payment rules").click()
    page.get_by_role("link", name="Create an outcome payment rule").click()
    page.get_by_label("Went home").check()
    page.get_by_label("Lot", exact=True).select_option(label=str(lot(1)))
    page.get_by_label("Amount").fill("300")
    page.get_by_label("Description").fill("Home within six weeks")
    assert _serious(page) == []
    page.get_by_role("button", name="Create the rule").click()
    assert "Home within six weeks" in page.locator("#outcome-rules").inner_text()
    assert OutcomePaymentRule.objects.get().amount == D("300.00")


@pytest.mark.browser
@pytest.mark.celery_worker
@pytest.mark.django_db(transaction=True)
def test_a_commissioner_records_an_fnc_rate_in_a_browser_and_the_worker_applies_it(
    reference_data, celery_worker, live_server, browser_page, council_a, broker_a, commissioner_a
):
    icb = OrganisationFactory(kind=Organisation.Kind.NHS, name="ICB", slug="icb-browser")
    placement = _nursing_placement(council_a, broker_a, icb)
    page = browser_page
    share_session(page.context, live_server, commissioner_a)
    page.goto(f"{live_server.url}/commissioner/fnc-rates/")
    _fill_date(page, "Rate from", dt.date(2026, 4, 1))
    page.get_by_label("Weekly rate").fill("0")
    page.get_by_role("button", name="Record the rate and apply it").click()
    assert "Enter the weekly rate above zero" in page.locator(".govuk-error-summary").inner_text()
    assert _serious(page) == []
    page.get_by_label("Weekly rate").fill("254.06")
    page.get_by_role("button", name="Record the rate and apply it").click()
    expect(page.locator("body")).to_contain_text("FNC £254.06 a week from 2026-04-01 recorded")
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and FncRate.objects.get().applied_at is None:
        time.sleep(0.2)
    page.reload()
    assert "Applied: 1 nursing placement changed" in page.locator("#fnc-rates").inner_text()
    placement.refresh_from_db()
    assert placement.weekly_fee == D("954.06")


@pytest.mark.browser
@pytest.mark.celery_worker
@pytest.mark.django_db(transaction=True)
def test_a_rate_entered_in_the_admin_is_applied_by_the_worker_too(
    reference_data, celery_worker, live_server, browser_page, council_a, broker_a
):
    from organisations.models import User

    icb = OrganisationFactory(kind=Organisation.Kind.NHS, name="ICB", slug="icb-admin")
    placement = _nursing_placement(council_a, broker_a, icb)
    back_office = User.objects.create_superuser("fnc@backoffice.example", "a-long-pass-phrase")
    page = browser_page
    share_session(page.context, live_server, back_office)
    page.goto(f"{live_server.url}/admin/contracts/fncrate/add/")
    page.get_by_label("Effective from").fill("2026-04-01")
    page.get_by_label("Weekly rate").fill("254.06")
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.locator(".messagelist")).to_contain_text("was added successfully")
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and FncRate.objects.get().applied_at is None:
        time.sleep(0.2)
    placement.refresh_from_db()
    assert placement.weekly_fee == D("954.06")
    assert AuditEvent.objects.filter(verb="contracts.fnc_rate.queued", actor=back_office).count() == 1
