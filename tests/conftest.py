"""The standard cast: two councils, two providers, a broker and commissioner of each
council, a provider user of each provider, and API clients; plus a real Celery worker."""

import tempfile
from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client

from organisations.models import Organisation, Role
from organisations.services import api_client_create

from .browser import launch
from .factories import (
    TEST_PASSWORD,
    HospitalFactory,
    OrganisationFactory,
    ProviderOrganisationFactory,
    UserFactory,
    ensure_reference_data,
)


def pytest_configure(config):
    # Uploaded files (compliance documents) go to a folder of this run, never the working tree's var/.
    settings.MEDIA_ROOT = Path(tempfile.mkdtemp(prefix="carehomes-media-"))
    engine = settings.DATABASES["default"]["ENGINE"]
    if engine != "django.db.backends.postgresql":
        pytest.exit(
            "The tests run on PostgreSQL only: set DATABASE_URL (make test does) and start the "
            "services with: docker compose up -d db redis",
            returncode=1,
        )


@pytest.fixture
def fresh_cache():
    """The shared cache emptied before and after the test: the sign-in, password-reset and
    registration budgets it counts start from nothing."""
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()


@pytest.fixture(autouse=True)
def reference_data(request):
    """The lots and specialisms that migrations make. A transactional test's flush empties every
    table, these included, so each test that uses the database gets them back before it starts."""
    marker = request.node.get_closest_marker("django_db")
    fixtures = set(request.fixturenames)
    transactional = (marker is not None and marker.kwargs.get("transaction", False)) or bool(
        {"transactional_db", "live_server"} & fixtures
    )
    if not (marker is not None or transactional or "db" in fixtures):
        return
    if marker is not None and marker.kwargs.get("serialized_rollback"):
        return
    request.getfixturevalue("transactional_db" if transactional else "db")
    ensure_reference_data()


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
def hospital_a(council_a):
    """An NHS trust's hospital site that refers people to council A."""
    return HospitalFactory(name="Royal Stoke Hospital", slug="hospital-a", refers_to=[council_a])


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


@pytest.fixture(scope="module")
def browser():
    """Debian's chromium through Playwright, one per test module."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = launch(playwright)
        yield chromium
        chromium.close()


@pytest.fixture
def browser_page(browser):
    """A page in a context of its own, closed after the test."""
    context = browser.new_context()
    yield context.new_page()
    context.close()


@pytest.fixture(autouse=True)
def browser_problems(request):
    """Fails a test whose browser pages logged an error, threw, or broke the Content Security
    Policy. Autouse, so it is set up before the test's pages and checked after they close; a
    test that provokes a problem on purpose takes it from the list with `.take()`."""
    if "browser" not in request.fixturenames:
        yield None
        return
    problems = request.getfixturevalue("browser").problems
    problems.take()
    yield problems
    seen = problems.take()
    if seen:
        pytest.fail("The browser met problems:\n" + "\n".join(seen), pytrace=False)


@pytest.fixture
def celery_worker(transactional_db):
    """A real Celery worker (solo pool, in a thread) consuming from Redis."""
    from celery.contrib.testing.worker import start_worker

    from config.celery import app

    app.control.purge()
    with start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=30):
        yield app


__all__ = ["TEST_PASSWORD"]
