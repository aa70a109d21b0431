"""The whole API against its own OpenAPI schema: generated requests never get a 5xx, and every
response (status, content type, headers, body) is one the schema describes."""

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from schemathesis.specs.openapi import checks as openapi_checks

from integrations.events import emit
from integrations.services import webhook_subscription_create
from organisations.services import api_client_create

from .factories import CareHomeFactory
from .integration_data import awarded_tender, bid, open_tender, placement_request

CHECKS = [
    schemathesis.checks.not_a_server_error,
    openapi_checks.status_code_conformance,
    openapi_checks.content_type_conformance,
    openapi_checks.response_headers_conformance,
    openapi_checks.response_schema_conformance,
]
ALL_SCOPES = ["read", "placement-requests", "bids", "dashboards", "webhooks"]

pytestmark = pytest.mark.django_db


@pytest.fixture
def keep_test_connection():
    """Requests go through the WSGI handler, which would close the test's database connection
    (and its transaction) after each response; Django's test client disconnects it the same way."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture
def api_data(db, keep_test_connection, settings, council_a, broker_a, commissioner_a, provider_user_a, provider_user_b):
    settings.API_THROTTLE_RATE_CLIENT = "100000/min"
    home_a = CareHomeFactory(provider=provider_user_a.organisation)
    home_b = CareHomeFactory(provider=provider_user_b.organisation)
    awarded_tender(commissioner=council_a, broker=broker_a, home=home_a, provider_user=provider_user_a)
    tender = open_tender(
        request=placement_request(commissioner=council_a, created_by=broker_a), created_by=broker_a, homes=[home_b]
    )
    bid(tender=tender, home=home_b, submitted_by=provider_user_b)
    webhook_subscription_create(actor=commissioner_a, url="https://case.example.org/h", events=["tender.awarded"])
    emit(event="tender.awarded", organisation=council_a, payload={"tender": {"id": 1}}, dedupe_key="t:1")


@pytest.fixture
def council_token(api_data, council_a):
    _, token = api_client_create(organisation=council_a, name="Case system", scopes=ALL_SCOPES)
    return token


@pytest.fixture
def provider_token(api_data, provider_a):
    _, token = api_client_create(organisation=provider_a, name="Home system", scopes=ALL_SCOPES)
    return token


def load_schema(phases: list[str]):
    config = schemathesis.config.SchemathesisConfig()
    config.projects.default.phases.update(phases=phases)
    return schemathesis.openapi.from_wsgi("/api/v1/schema/?format=json", get_wsgi_application(), config=config)


# Generating the schema reads no database rows, so it can be loaded while tests are collected.
# The council run also walks the coverage phase (boundary and invalid values of every
# parameter); the provider run only fuzzes, to keep the suite's time bounded.
council_schema = load_schema(["examples", "coverage", "fuzzing"])
provider_schema = load_schema(["examples", "fuzzing"])
BOUNDED = settings(max_examples=3, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)


@council_schema.parametrize()
@BOUNDED
def test_api_conforms_to_its_schema_for_a_council_system(case, council_token):
    case.call_and_validate(headers={"Authorization": f"Bearer {council_token}"}, checks=CHECKS)


@provider_schema.parametrize()
@BOUNDED
def test_api_conforms_to_its_schema_for_a_provider_system(case, provider_token):
    case.call_and_validate(headers={"Authorization": f"Bearer {provider_token}"}, checks=CHECKS)


@pytest.fixture
def hospital_token(api_data, council_a, broker_a):
    from organisations.models import Role

    from .factories import DischargeRequestFactory, HospitalFactory, UserFactory

    hospital = HospitalFactory(name="Royal Stoke Hospital", slug="hospital-a", refers_to=[council_a])
    coordinator = UserFactory(organisation=hospital, role=Role.DISCHARGE_COORDINATOR)
    DischargeRequestFactory(commissioner=council_a, hospital=hospital, created_by=coordinator)
    _, token = api_client_create(organisation=hospital, name="Ward system", scopes=["referrals"])
    return token


# A hospital's system uses the referral endpoints only; every other operation refuses it.
hospital_schema = load_schema(["examples", "coverage", "fuzzing"]).include(tag="referrals")


@hospital_schema.parametrize()
@BOUNDED
def test_the_referral_api_conforms_to_its_schema_for_a_hospital_system(case, hospital_token):
    case.call_and_validate(headers={"Authorization": f"Bearer {hospital_token}"}, checks=CHECKS)
