"""The standard cast: two councils, two providers, a broker and commissioner of each
council, a provider user of each provider, and API clients; plus a real Celery worker."""

import pytest
from django.conf import settings
from django.test import Client

from organisations.models import Organisation, Role
from organisations.services import api_client_create

from .factories import (
    TEST_PASSWORD,
    OrganisationFactory,
    ProviderOrganisationFactory,
    UserFactory,
)


def pytest_configure(config):
    engine = settings.DATABASES["default"]["ENGINE"]
    if engine != "django.db.backends.postgresql":
        pytest.exit(
            "The tests run on PostgreSQL only: set DATABASE_URL (make test does) and start the "
            "services with: docker compose up -d db redis",
            returncode=1,
        )


@pytest.fixture(autouse=True)
def reference_data(request):
    """Transactional tests empty every table when they end, taking with them the lots and
    specialisms the migrations made; put them back before any later test that uses the database."""
    uses_db = request.node.get_closest_marker("django_db") or {"db", "transactional_db"} & set(request.fixturenames)
    if not uses_db:
        return
    from lots.models import Lot
    from lots.reference import LOTS
    from providers.models import Specialism
    from providers.reference import SPECIALISMS

    if Lot.objects.count() != len(LOTS):
        for number, name, setting, client_group, dementia in LOTS:
            Lot.objects.update_or_create(
                number=number,
                defaults={"name": name, "setting": setting, "client_group": client_group, "dementia": dementia},
            )
    if Specialism.objects.count() < len(SPECIALISMS):
        for code, name in SPECIALISMS:
            Specialism.objects.update_or_create(code=code, defaults={"name": name})


@pytest.fixture
def council_a():
    return OrganisationFactory(name="Staffordshire County Council", slug="council-a", local_authority="Staffordshire")


@pytest.fixture
def council_b():
    return OrganisationFactory(name="Sefton Council", slug="council-b", local_authority="Sefton")


@pytest.fixture
def provider_a():
    return ProviderOrganisationFactory(name="Trentside Care Ltd", slug="provider-a")


@pytest.fixture
def provider_b():
    return ProviderOrganisationFactory(name="Moorlands Homes Ltd", slug="provider-b")


@pytest.fixture
def broker_a(council_a):
    return UserFactory(organisation=council_a, role=Role.BROKER, email="broker@a.example")


@pytest.fixture
def commissioner_a(council_a):
    return UserFactory(organisation=council_a, role=Role.COMMISSIONER, email="commissioner@a.example")


@pytest.fixture
def broker_b(council_b):
    return UserFactory(organisation=council_b, role=Role.BROKER, email="broker@b.example")


@pytest.fixture
def commissioner_b(council_b):
    return UserFactory(organisation=council_b, role=Role.COMMISSIONER, email="commissioner@b.example")


@pytest.fixture
def provider_user_a(provider_a):
    return UserFactory(organisation=provider_a, role=Role.PROVIDER, email="user@provider-a.example")


@pytest.fixture
def provider_user_b(provider_b):
    return UserFactory(organisation=provider_b, role=Role.PROVIDER, email="user@provider-b.example")


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def as_user():
    """as_user(user) -> a Django test client signed in as that user."""
    return signed_in


class ApiCaller:
    """An API client's credentials and a test client that sends them."""

    def __init__(self, organisation: Organisation, scopes: list[str], role: str = ""):
        self.api_client, token = api_client_create(
            organisation=organisation, name=f"{organisation.slug} system", scopes=scopes, role=role
        )
        self.http = Client(HTTP_AUTHORIZATION=f"Bearer {token}")
        self.token = token

    def get(self, path, **kwargs):
        return self.http.get(path, **kwargs)

    def post(self, path, data=None, **kwargs):
        return self.http.post(path, data, content_type="application/json", **kwargs)

    def patch(self, path, data=None, **kwargs):
        return self.http.patch(path, data, content_type="application/json", **kwargs)

    def put(self, path, data=None, **kwargs):
        return self.http.put(path, data, content_type="application/json", **kwargs)

    def delete(self, path, **kwargs):
        return self.http.delete(path, **kwargs)


ALL_SCOPES = ["read", "placement-requests", "bids", "dashboards"]


@pytest.fixture
def api_as():
    """api_as(organisation, scopes=[...], role="") -> ApiCaller."""

    def make(organisation, scopes=None, role=""):
        return ApiCaller(organisation, scopes or ALL_SCOPES, role)

    return make


@pytest.fixture
def celery_worker(transactional_db):
    """A real Celery worker (solo pool, in a thread) consuming from Redis."""
    from celery.contrib.testing.worker import start_worker

    from config.celery import app

    app.control.purge()
    with start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=30):
        yield app


@pytest.fixture(autouse=True)
def _reference_data_in_transactional_tests(request):
    """A transactional test's flush empties every table, the lots and specialisms the migrations
    made included; put them back so each transactional test starts from what migrate leaves."""
    marker = request.node.get_closest_marker("django_db")
    marked = marker is not None and marker.kwargs.get("transaction", False)
    if not (marked or {"transactional_db", "live_server"} & set(request.fixturenames)):
        return
    if marker is not None and marker.kwargs.get("serialized_rollback"):
        return
    from .factories import ensure_reference_data

    request.getfixturevalue("transactional_db")
    ensure_reference_data()


__all__ = ["TEST_PASSWORD"]
