"""Outages answered in each interface's own terms, against services that really do not answer.

Redis (the cache and the Celery broker) is pointed at 127.0.0.1:1, where nothing listens; the
database is made unreachable by pointing the live connection at the same port, and put back
before the test's clean-up. The API answers problem details, never HTML; pages answer the
GOV.UK "Sorry, the service is unavailable" page with 503. With Redis down the work that needs
only PostgreSQL goes on: reads, bids, and publishing a tender, whose close the sweeper makes.
"""

import json
import logging
import time
from contextlib import contextmanager
from datetime import timedelta

import pytest
from django.db import connection
from django.test import Client
from django.urls import path
from django.utils import timezone
from rest_framework.views import APIView

from bidding.models import Bid, Tender
from bidding.services import database_now, tenders_close_overdue
from config import urls as site_urls
from core.models import Notification
from lots.models import LotRules
from organisations.models import Role

from .conftest import signed_in
from .factories import (
    TEST_PASSWORD,
    InvitationFactory,
    PlacementRequestFactory,
    TenderFactory,
    UserFactory,
    admitted_home,
)
from .test_faults import use_broker

pytestmark = pytest.mark.django_db(transaction=True)

NOBODY_LISTENS = "redis://127.0.0.1:1/0"
UNAVAILABLE_PAGE = "Sorry, the service is unavailable"
COUNCIL_SCOPES = ["read", "placement-requests"]
PROVIDER_SCOPES = ["read", "bids"]


@pytest.fixture
def redis_down(settings):
    """The cache and this process's task producer both pointed at a port where nothing listens."""
    original_broker = settings.CELERY_BROKER_URL
    settings.CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": NOBODY_LISTENS}
    }
    use_broker(NOBODY_LISTENS)
    yield
    use_broker(original_broker)


@pytest.fixture(autouse=True)
def warnings_recorded(caplog):
    """These tests read the warning lines an outage writes, whatever ran earlier in this process: a
    Celery worker started by another test sets the root logger's level to its own, and a logging
    set-up may switch loggers off. The level and the two loggers are put back afterwards."""
    caplog.set_level("WARNING")
    loggers = [logging.getLogger(name) for name in ("core.outages", "integrations.throttling")]
    saved = [(logger, logger.disabled, logger.propagate, logger.level) for logger in loggers]
    for logger in loggers:
        logger.disabled, logger.propagate = False, True
        logger.setLevel(logging.NOTSET)
    yield
    for logger, disabled, propagate, level in saved:
        logger.disabled, logger.propagate = disabled, propagate
        logger.setLevel(level)


@contextmanager
def database_unreachable():
    """Every new connection of this thread goes to a closed port until the block ends."""
    original = connection.settings_dict
    connection.close()
    connection.settings_dict = {**original, "HOST": "127.0.0.1", "PORT": "1"}
    try:
        yield
    finally:
        connection.close()
        connection.settings_dict = original


def assert_problem(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.content
    assert response["Content-Type"] == "application/problem+json"
    body = json.loads(response.content)
    assert body["status"] == status and body["code"] == code
    return body


def assert_unavailable_problem(response) -> None:
    body = assert_problem(response, 503, "service_unavailable")
    assert body["title"] == "Service Unavailable"
    assert response["Retry-After"] == "30"


def assert_unavailable_page(response) -> None:
    assert response.status_code == 503
    assert response["Content-Type"].startswith("text/html")
    assert response["Retry-After"] == "30"
    page = response.content.decode()
    assert f'<h1 class="govuk-heading-l">{UNAVAILABLE_PAGE}</h1>' in page
    assert "govuk-header" in page and "Care home placements" in page
    assert "Server Error" not in page


def request_payload() -> dict:
    return {
        "case_reference": "LAS-4410",
        "lot": 1,
        "needs_summary": "Older person, needs help with mobility and personal care.",
        "local_authority": "Staffordshire",
        "needed_from": (timezone.localdate() + timedelta(days=3)).isoformat(),
        "max_weekly_rate": "900.00",
    }


@pytest.fixture
def open_tender(council_a, broker_a, provider_a):
    """A tender closing in a minute with one invited home of provider A."""
    home = admitted_home(council_a, provider=provider_a)
    request = PlacementRequestFactory(commissioner=council_a, created_by=broker_a, status="tendering")
    tender = TenderFactory(request=request, closes_at=timezone.now() + timedelta(minutes=1))
    InvitationFactory(tender=tender, care_home=home)
    return tender, home


# Redis down ----------------------------------------------------------------------------------


def test_with_redis_down_api_reads_and_bids_go_on_and_the_budget_is_not_counted(
    redis_down, open_tender, provider_a, api_as, caplog
):
    tender, home = open_tender
    provider = api_as(provider_a, scopes=PROVIDER_SCOPES)

    read = provider.get(f"/api/v1/tenders/{tender.pk}/")
    assert read.status_code == 200, read.content
    assert read["Content-Type"] == "application/json"

    bid = provider.post(
        f"/api/v1/tenders/{tender.pk}/bids/",
        {
            "care_home": home.pk,
            "weekly_fee": "845.00",
            "earliest_start": (timezone.localdate() + timedelta(days=2)).isoformat(),
            "needs_confirmed": True,
        },
    )
    assert bid.status_code == 201, bid.content
    assert Bid.objects.filter(tender=tender, care_home=home, status=Bid.Status.SUBMITTED).exists()
    uncounted = [r for r in caplog.records if "request budget not counted, cache unreachable" in r.getMessage()]
    assert [r.levelname for r in uncounted] == ["WARNING", "WARNING"]


def test_with_redis_down_a_published_tender_is_kept_and_the_sweeper_closes_it(
    redis_down, council_a, broker_a, provider_a, api_as
):
    LotRules.objects.filter(commissioner=council_a, lot__number=1).update(min_window_hours=0)
    admitted_home(council_a, provider=provider_a)
    UserFactory(organisation=provider_a, role=Role.PROVIDER, email="bids@provider-a.example")
    request = PlacementRequestFactory(commissioner=council_a, created_by=broker_a)
    council = api_as(council_a, scopes=COUNCIL_SCOPES)
    closes_at = database_now() + timedelta(seconds=3)

    # Committed, then the invitation e-mail and the deadline's close fail to reach the broker.
    published = council.post(f"/api/v1/placement-requests/{request.pk}/publish/", {"closes_at": closes_at.isoformat()})

    assert published.status_code == 201, published.content
    tender = Tender.objects.get(pk=published.json()["id"])
    assert tender.status == Tender.Status.OPEN
    assert Notification.objects.filter(verb="bidding.tender.invited", sent_at__isnull=True).count() == 1
    while database_now() <= closes_at:
        time.sleep(0.2)
    # What beat runs every minute once the broker is back: the close was never queued, yet it is made.
    assert tenders_close_overdue() == 1
    tender.refresh_from_db()
    assert tender.status != Tender.Status.OPEN and tender.closed_at is not None


def test_with_redis_down_pages_are_served(redis_down, broker_a):
    response = signed_in(broker_a).get("/broker/requests/")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/html")


def test_with_redis_down_signing_in_is_never_a_server_error(redis_down, broker_a):
    """The sign-in throttle counts failures in Redis: while it is down a person is either signed
    in (the throttle let through) or shown the unavailable page, not a server error."""
    response = Client().post("/sign-in/", {"username": broker_a.email, "password": TEST_PASSWORD})
    if response.status_code == 503:
        assert_unavailable_page(response)
    else:
        assert response.status_code == 302


# PostgreSQL down -----------------------------------------------------------------------------


def test_with_the_database_down_the_api_answers_503_problem_details(council_a, api_as, caplog):
    council = api_as(council_a, scopes=COUNCIL_SCOPES)
    # An outage met in middleware (the idempotency check authenticates) reaches the 500 handler.
    council.http.raise_request_exception = False

    with database_unreachable():
        assert_unavailable_problem(council.get("/api/v1/placement-requests/"))
        assert_unavailable_problem(council.get("/api/v1/tenders/1/"))
        assert_unavailable_problem(council.post("/api/v1/placement-requests/", request_payload()))
        assert_unavailable_problem(
            council.post("/api/v1/placement-requests/", request_payload(), HTTP_IDEMPOTENCY_KEY="case-4410")
        )

    assert any(
        r.levelname == "WARNING" and r.getMessage().startswith("database unreachable: GET /api/v1/placement-requests/")
        for r in caplog.records
    )


def test_with_the_database_down_pages_answer_the_unavailable_page(broker_a, provider_user_a):
    broker = signed_in(broker_a)
    provider = signed_in(provider_user_a)

    with database_unreachable():
        assert_unavailable_page(broker.get("/broker/"))
        assert_unavailable_page(broker.get("/broker/requests/"))
        assert_unavailable_page(broker.post("/broker/requests/new/", request_payload()))
        assert_unavailable_page(provider.get("/provider/invitations/"))
        assert_unavailable_page(Client().post("/sign-in/", {"username": broker_a.email, "password": "x"}))


# A fault in our own code ---------------------------------------------------------------------


class FaultyApi(APIView):
    authentication_classes = []
    permission_classes = []

    def get(self, request):
        raise RuntimeError("a fault in our code")


def faulty_page(request):
    raise RuntimeError("a fault in our code")


urlpatterns = [
    path("api/v1/fault/", FaultyApi.as_view()),
    path("fault/", faulty_page),
    *site_urls.urlpatterns,
]
# The site's own handler: the test fails if config.urls stops naming one.
handler500 = site_urls.handler500


@pytest.fixture
def with_faulty_views(settings):
    settings.ROOT_URLCONF = __name__


def test_an_unexpected_api_error_is_a_500_in_problem_details(with_faulty_views):
    response = Client(raise_request_exception=False).get("/api/v1/fault/")
    body = assert_problem(response, 500, "server_error")
    assert body["title"] == "Internal Server Error"
    assert "a fault in our code" not in response.content.decode()


def test_an_unexpected_page_error_is_the_styled_500_page(with_faulty_views):
    response = Client(raise_request_exception=False).get("/fault/")
    assert response.status_code == 500
    page = response.content.decode()
    assert "Sorry, there is a problem with the service" in page
    assert "govuk-header" in page and "Care home placements" in page
    assert "a fault in our code" not in page
