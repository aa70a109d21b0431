"""The API for a placement's absences, death and outcome payments: council systems with the
`contracts` scope write, for their own body's placements only; reads need `read`; refusals are 400
with field errors, or 409 when they conflict with what is recorded."""

import datetime as dt
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from contracts.models import Absence, Death, OutcomePayment
from contracts.services import absence_record, agreement_create_for_placement, outcome_rule_create
from core.models import AuditEvent

from .factories import PaidPlacementFactory, lot

pytestmark = pytest.mark.django_db
D = Decimal


@pytest.fixture
def placement(council_a, broker_a, provider_a):
    placement = PaidPlacementFactory(commissioner=council_a, case_reference="API-PAYERS-1")
    placement.care_home.provider = provider_a
    placement.care_home.save()
    agreement_create_for_placement(placement=placement, actor=broker_a)
    return placement


@pytest.fixture
def system(council_a, api_as):
    return api_as(council_a, scopes=["read", "contracts"], role="broker")


def test_a_council_system_records_an_absence_its_return_and_reads_them(placement, system):
    url = f"/api/v1/placements/{placement.pk}/absences/"
    away = timezone.localdate() - dt.timedelta(days=12)
    response = system.post(url, {"kind": "hospital", "starts_on": str(away), "note": "Fall"})
    assert response.status_code == 201, response.content
    absence_id = response.json()["id"]
    assert response.json()["ends_on"] is None
    response = system.post(f"{url}{absence_id}/end/", {"ends_on": str(away + dt.timedelta(days=4))})
    assert response.status_code == 200
    assert system.get(url).json() == [
        {
            "id": absence_id,
            "kind": "hospital",
            "starts_on": str(away),
            "ends_on": str(away + dt.timedelta(days=4)),
            "note": "Fall",
            "recorded_at": response.json()["recorded_at"],
        }
    ]
    verbs = list(AuditEvent.objects.filter(verb__startswith="contracts.absence").values_list("verb", flat=True))
    assert sorted(verbs) == ["contracts.absence.ended", "contracts.absence.recorded"]


def test_refusals_are_field_errors_or_conflicts(placement, system):
    url = f"/api/v1/placements/{placement.pk}/absences/"
    before = str(placement.start_date - dt.timedelta(days=1))
    response = system.post(url, {"starts_on": before})
    assert response.status_code == 400
    assert response.json()["errors"] == {"starts_on": ["The absence must start while the person is placed."]}
    assert system.post(url, {"starts_on": "not a date"}).status_code == 400
    day = str(timezone.localdate() - dt.timedelta(days=5))
    assert system.post(url, {"starts_on": day}).status_code == 201
    response = system.post(url, {"starts_on": day})
    assert response.status_code == 409
    assert response.json()["errors"] == {"starts_on": ["The person is already recorded as away on some of those days."]}
    assert Absence.objects.count() == 1


def test_a_death_is_recorded_once_and_says_the_last_day_paid(placement, system):
    url = f"/api/v1/placements/{placement.pk}/death/"
    died = timezone.localdate() - dt.timedelta(days=1)
    response = system.post(url, {"died_on": str(died)})
    assert response.status_code == 201, response.content
    assert response.json()["paid_until"] == str(died + dt.timedelta(days=3))
    assert system.post(url, {"died_on": str(died)}).status_code == 409
    assert system.post(url, {}).json()["errors"]["died_on"]
    placement.refresh_from_db()
    assert placement.end_date == died and Death.objects.count() == 1


def test_writes_need_the_contracts_scope_a_council_role_and_the_body_s_own_placement(
    placement, council_a, council_b, api_as, provider_a
):
    day = {"starts_on": str(timezone.localdate())}
    url = f"/api/v1/placements/{placement.pk}/absences/"
    assert api_as(council_a, scopes=["read"], role="broker").post(url, day).status_code == 403
    assert api_as(council_b, scopes=["read", "contracts"], role="broker").post(url, day).status_code == 404
    assert api_as(provider_a, scopes=["read", "contracts"]).post(url, day).status_code == 403
    death = f"/api/v1/placements/{placement.pk}/death/"
    assert (
        api_as(council_b, scopes=["contracts"], role="broker").post(death, {"died_on": day["starts_on"]}).status_code
        == 404
    )
    assert not Absence.objects.exists() and not Death.objects.exists()
    # The home's provider reads the absences and outcome payments; another body does not.
    assert api_as(provider_a, scopes=["read"]).get(url).status_code == 200
    assert api_as(council_b, scopes=["read"], role="broker").get(url).status_code == 404


def test_an_absence_of_another_placement_cannot_be_ended_through_this_one(placement, council_a, broker_a, system):
    other = PaidPlacementFactory(commissioner=council_a)
    absence = absence_record(placement=other, starts_on=timezone.localdate(), by=broker_a)
    url = f"/api/v1/placements/{placement.pk}/absences/{absence.pk}/end/"
    assert system.post(url, {"ends_on": str(timezone.localdate())}).status_code == 404


def test_outcome_payments_are_read_with_their_rule(placement, commissioner_a, api_as, provider_a):
    rule = outcome_rule_create(
        by=commissioner_a, outcome="home", amount=D("250.00"), description="Home within the period", lot=lot(1)
    )
    OutcomePayment.objects.create(
        placement=placement,
        rule=rule,
        outcome="home",
        outcome_on=dt.date(2026, 4, 1),
        amount=D("250.00"),
        due_on=dt.date(2026, 4, 1),
    )
    body = api_as(provider_a, scopes=["read"]).get(f"/api/v1/placements/{placement.pk}/outcome-payments/").json()
    assert body == [
        {
            "id": body[0]["id"],
            "description": "Home within the period",
            "outcome": "home",
            "outcome_on": "2026-04-01",
            "amount": "250.00",
            "due_on": "2026-04-01",
        }
    ]


def test_absence_and_outcome_payment_lists_run_the_same_queries_whatever_their_length(
    placement, broker_a, commissioner_a, system
):
    urls = [f"/api/v1/placements/{placement.pk}/absences/", f"/api/v1/placements/{placement.pk}/outcome-payments/"]

    def counts():
        found = []
        for url in urls:
            with CaptureQueriesContext(connection) as queries:
                assert system.get(url).status_code == 200
            found.append(len(queries))
        return found

    absence_record(placement=placement, starts_on=placement.start_date, ends_on=placement.start_date, by=broker_a)
    counts()  # the client's credentials are cached from the first call on
    small = counts()
    for days in range(2, 12, 2):
        start = placement.start_date + dt.timedelta(days=days)
        absence_record(placement=placement, starts_on=start, ends_on=start, by=broker_a)
    for outcome in ("home", "long_term_same_home"):
        rule = outcome_rule_create(by=commissioner_a, outcome=outcome, amount=D("100"), description=outcome, lot=lot(1))
        OutcomePayment.objects.create(
            placement=placement,
            rule=rule,
            outcome=outcome,
            outcome_on=placement.start_date,
            amount=D("100"),
            due_on=placement.start_date,
        )
    assert counts() == small
    assert len(system.get(urls[0]).json()) == 6 and len(system.get(urls[1]).json()) == 2
