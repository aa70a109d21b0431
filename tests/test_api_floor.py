"""The fixed cost of an API request: credentials from the shared cache, the budget in one script.

A cached look-up must never outlive a change: revoking a client, disabling its account or
changing its scopes is seen by the next request.
"""

import threading
import time

import pytest
from django.core.cache import caches
from django.core.cache.backends.redis import RedisCache
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from integrations.throttling import _redis_budget
from organisations.models import ApiClient
from organisations.services import api_client_create, api_client_revoke

LOTS = "/api/v1/lots/"


def _auth_queries(http: Client) -> list[str]:
    with CaptureQueriesContext(connection) as queries:
        assert http.get(LOTS).status_code == 200
    return [q["sql"] for q in queries.captured_queries if "organisations_apiclient" in q["sql"]]


@pytest.mark.django_db
def test_a_known_token_is_authenticated_without_a_query(council_a):
    _, token = api_client_create(organisation=council_a, name="Case system", scopes=["read"])
    http = Client(HTTP_AUTHORIZATION=f"Bearer {token}")

    assert _auth_queries(http), "the first request reads the client"
    assert _auth_queries(http) == [], "the next one finds it in the cache"


@pytest.mark.django_db
def test_revoking_a_cached_client_refuses_its_next_request(council_a):
    client, token = api_client_create(organisation=council_a, name="Case system", scopes=["read"])
    http = Client(HTTP_AUTHORIZATION=f"Bearer {token}")
    assert http.get(LOTS).status_code == 200
    assert http.get(LOTS).status_code == 200

    api_client_revoke(client=client)

    assert http.get(LOTS).status_code == 401


@pytest.mark.django_db
def test_disabling_the_account_or_changing_scopes_is_seen_at_once(council_a):
    client, token = api_client_create(organisation=council_a, name="Case system", scopes=["read"])
    http = Client(HTTP_AUTHORIZATION=f"Bearer {token}")
    assert http.get(LOTS).status_code == 200

    client = ApiClient.objects.get(pk=client.pk)
    client.scopes = ["bids"]
    client.save()  # as the admin saves it
    assert http.get(LOTS).status_code == 403

    client.scopes = ["read"]
    client.save()
    assert http.get(LOTS).status_code == 200
    client.user.is_active = False
    client.user.save()
    assert http.get(LOTS).status_code == 401


@pytest.mark.django_db
def test_a_wrong_secret_for_a_cached_client_is_refused(council_a):
    client, token = api_client_create(organisation=council_a, name="Case system", scopes=["read"])
    assert Client(HTTP_AUTHORIZATION=f"Bearer {token}").get(LOTS).status_code == 200

    forged = Client(HTTP_AUTHORIZATION=f"Bearer {client.key_id}.not-the-secret")
    assert forged.get(LOTS).status_code == 401
    assert forged.get(LOTS).status_code == 401


@pytest.mark.django_db(transaction=True)
def test_concurrent_requests_share_one_budget_exactly(council_a, settings):
    settings.API_THROTTLE_RATE_CLIENT = "5/min"
    _, token = api_client_create(organisation=council_a, name="Case system", scopes=["read"])
    statuses = []
    start = threading.Barrier(12)

    def call():
        try:
            http = Client(HTTP_AUTHORIZATION=f"Bearer {token}")
            start.wait()
            response = http.get(LOTS)
            statuses.append((response.status_code, response.headers.get("RateLimit-Remaining")))
        finally:
            connection.close()

    threads = [threading.Thread(target=call) for _ in range(12)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(code for code, _ in statuses) == [200] * 5 + [429] * 7
    assert sorted(int(left) for code, left in statuses if code == 200) == [0, 1, 2, 3, 4]
    refused = Client(HTTP_AUTHORIZATION=f"Bearer {token}").get(LOTS)
    assert refused.status_code == 429
    assert 0 < int(refused["Retry-After"]) <= 60


def test_the_cache_keeps_one_redis_client_and_one_budget_script_across_requests():
    # Building a redis-py client per operation cost a third of a request's fixed time, and the
    # budget script registered on each new client kept every client alive.
    backend = caches["default"]
    assert isinstance(backend, RedisCache)
    first = backend._cache.get_client("one", write=True)
    assert backend._cache.get_client("two", write=True) is first
    assert backend._cache.get_client("three") is first, "one server: reads and writes share its pool"

    _redis_budget("test-floor", now=time.time(), duration=60, limit=10, count=True)
    script = first._budget_script
    _redis_budget("test-floor", now=time.time(), duration=60, limit=10, count=True)
    assert first._budget_script is script
