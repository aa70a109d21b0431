"""Idempotency-Key on API POSTs: a retry returns the first response and creates nothing."""

import threading

import pytest
from django.db import connection
from django.test import Client

from integrations.models import IdempotencyKey, WebhookSubscription
from organisations.models import ApiClient

SUBSCRIPTIONS = "/api/v1/webhooks/subscriptions/"
BODY = {"url": "https://case.example.org/hooks", "events": ["tender.awarded"]}


@pytest.fixture
def case_system(api_as, council_a):
    return api_as(council_a, scopes=["read", "webhooks"])


@pytest.mark.django_db
def test_retry_with_same_key_returns_first_response_and_creates_nothing(case_system):
    first = case_system.post(SUBSCRIPTIONS, BODY, HTTP_IDEMPOTENCY_KEY="create-hook-1")
    retry = case_system.post(SUBSCRIPTIONS, BODY, HTTP_IDEMPOTENCY_KEY="create-hook-1")

    assert first.status_code == 201
    assert retry.status_code == 201
    assert retry.json() == first.json()
    assert retry["Idempotent-Replayed"] == "true"
    assert WebhookSubscription.objects.count() == 1


@pytest.mark.django_db
def test_post_without_key_is_not_deduplicated(case_system):
    case_system.post(SUBSCRIPTIONS, BODY)
    case_system.post(SUBSCRIPTIONS, BODY)

    assert WebhookSubscription.objects.count() == 2


@pytest.mark.django_db
def test_same_key_with_a_different_body_is_422_problem(case_system):
    case_system.post(SUBSCRIPTIONS, BODY, HTTP_IDEMPOTENCY_KEY="k")
    other = case_system.post(SUBSCRIPTIONS, {**BODY, "events": ["tender.closed"]}, HTTP_IDEMPOTENCY_KEY="k")

    assert other.status_code == 422
    assert other["Content-Type"] == "application/problem+json"
    assert other.json()["code"] == "idempotency_key_reused"
    assert WebhookSubscription.objects.count() == 1


@pytest.mark.django_db
def test_keys_belong_to_one_caller(case_system, api_as, council_a):
    other_system = api_as(council_a, scopes=["read", "webhooks"])
    case_system.post(SUBSCRIPTIONS, BODY, HTTP_IDEMPOTENCY_KEY="shared-key")
    response = other_system.post(SUBSCRIPTIONS, BODY, HTTP_IDEMPOTENCY_KEY="shared-key")

    assert response.status_code == 201
    assert "Idempotent-Replayed" not in response
    assert WebhookSubscription.objects.count() == 2


@pytest.mark.django_db
def test_bad_token_never_gets_a_stored_response(case_system):
    case_system.post(SUBSCRIPTIONS, BODY, HTTP_IDEMPOTENCY_KEY="k")
    key_id = case_system.api_client.key_id
    forged = Client(HTTP_AUTHORIZATION=f"Bearer {key_id}.not-the-secret")

    response = forged.post(SUBSCRIPTIONS, BODY, content_type="application/json", HTTP_IDEMPOTENCY_KEY="k")

    assert response.status_code == 401
    assert "secret" not in response.json()


@pytest.mark.django_db
def test_refused_requests_are_not_stored(api_as, council_a):
    reader = api_as(council_a, scopes=["read"])
    response = reader.post(SUBSCRIPTIONS, BODY, HTTP_IDEMPOTENCY_KEY="k")

    assert response.status_code == 403
    assert not IdempotencyKey.objects.exists()


@pytest.mark.django_db
def test_api_token_is_not_kept_for_replay_and_the_retry_creates_nothing(as_user, commissioner_a):
    web = as_user(commissioner_a)
    body = {"name": "Mosaic", "scopes": ["read"]}
    first = web.post("/api/v1/api-clients/", body, content_type="application/json", HTTP_IDEMPOTENCY_KEY="c1")
    retry = web.post("/api/v1/api-clients/", body, content_type="application/json", HTTP_IDEMPOTENCY_KEY="c1")

    assert first.status_code == 201
    assert retry.status_code == 409
    assert retry.json()["code"] == "idempotency_secret_not_replayed"
    assert ApiClient.objects.count() == 1
    stored = IdempotencyKey.objects.get()
    assert first.json()["token"].encode() not in bytes(stored.response_body)


@pytest.mark.django_db(transaction=True)
def test_concurrent_retries_create_one_object(api_as, council_a):
    caller = api_as(council_a, scopes=["read", "webhooks"])
    threads_count = 6
    barrier = threading.Barrier(threads_count)
    responses = []

    def retry():
        try:
            http = Client(HTTP_AUTHORIZATION=f"Bearer {caller.token}")
            barrier.wait()
            response = http.post(
                SUBSCRIPTIONS, BODY, content_type="application/json", HTTP_IDEMPOTENCY_KEY="same-retry"
            )
            responses.append((response.status_code, response.json()))
        finally:
            connection.close()

    threads = [threading.Thread(target=retry) for _ in range(threads_count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert WebhookSubscription.objects.count() == 1
    assert [status for status, _ in responses] == [201] * threads_count
    assert all(body == responses[0][1] for _, body in responses)


@pytest.mark.django_db
def test_throttled_client_gets_429_problem_with_retry_after(case_system, settings):
    settings.API_THROTTLE_RATE_CLIENT = "2/min"
    statuses = [case_system.get(SUBSCRIPTIONS).status_code for _ in range(3)]

    assert statuses == [200, 200, 429]
    refused = case_system.get(SUBSCRIPTIONS)
    assert refused["Content-Type"] == "application/problem+json"
    assert int(refused["Retry-After"]) > 0


@pytest.mark.django_db
def test_detail_resources_carry_an_etag_and_answer_304_when_unchanged(case_system):
    created = case_system.post(SUBSCRIPTIONS, BODY).json()
    url = f"{SUBSCRIPTIONS}{created['id']}/"
    first = case_system.get(url)

    assert first.status_code == 200
    etag = first["ETag"]
    assert case_system.get(url, HTTP_IF_NONE_MATCH=etag).status_code == 304
    case_system.delete(url)
    changed = case_system.get(url, HTTP_IF_NONE_MATCH=etag)
    assert changed.status_code == 200
    assert changed["ETag"] != etag


def _request_body():
    from datetime import timedelta

    from django.utils import timezone

    return {
        "case_reference": "MOSAIC-104233",
        "lot": 1,
        "needs_summary": "Needs a ground-floor room.",
        "local_authority": "Staffordshire",
        "needed_from": str(timezone.localdate() + timedelta(days=3)),
    }


@pytest.mark.django_db
def test_a_case_system_retrying_a_placement_request_creates_one(api_as, council_a):
    from placements.models import PlacementRequest

    case_system = api_as(council_a, scopes=["read", "placement-requests"])
    body = _request_body()
    first = case_system.post("/api/v1/placement-requests/", body, HTTP_IDEMPOTENCY_KEY="MOSAIC-104233")
    retry = case_system.post("/api/v1/placement-requests/", body, HTTP_IDEMPOTENCY_KEY="MOSAIC-104233")

    assert first.status_code == 201, first.content
    assert retry.status_code == 201
    assert retry.json() == first.json()
    assert PlacementRequest.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_concurrent_retries_of_a_placement_request_create_one(api_as, council_a):
    from placements.models import PlacementRequest

    caller = api_as(council_a, scopes=["read", "placement-requests"])
    body = _request_body()
    threads_count = 5
    barrier = threading.Barrier(threads_count)
    statuses = []

    def retry():
        try:
            http = Client(HTTP_AUTHORIZATION=f"Bearer {caller.token}")
            barrier.wait()
            response = http.post(
                "/api/v1/placement-requests/", body, content_type="application/json", HTTP_IDEMPOTENCY_KEY="case-1"
            )
            statuses.append(response.status_code)
        finally:
            connection.close()

    threads = [threading.Thread(target=retry) for _ in range(threads_count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert statuses == [201] * threads_count
    assert PlacementRequest.objects.count() == 1


@pytest.mark.django_db
def test_keys_are_forgotten_after_their_retention_period(case_system):
    from datetime import timedelta

    from django.utils import timezone

    from integrations.services import idempotency_keys_purge

    case_system.post(SUBSCRIPTIONS, BODY, HTTP_IDEMPOTENCY_KEY="old")
    case_system.post(SUBSCRIPTIONS, {**BODY, "url": "https://case.example.org/new"}, HTTP_IDEMPOTENCY_KEY="new")
    IdempotencyKey.objects.filter(key="old").update(created_at=timezone.now() - timedelta(hours=25))

    assert idempotency_keys_purge(older_than=timedelta(hours=24)) == 1
    assert list(IdempotencyKey.objects.values_list("key", flat=True)) == ["new"]


@pytest.mark.django_db
def test_a_retry_while_the_first_request_still_runs_waits_then_gets_409(case_system, settings):
    import hashlib
    import json

    settings.IDEMPOTENCY_WAIT_SECONDS = 0.2
    body = json.dumps(BODY).encode()
    # Bodies are compared as canonical JSON: keys sorted, no spacing.
    canonical = json.dumps(BODY, sort_keys=True, separators=(",", ":")).encode()
    fingerprint = hashlib.sha256(f"POST\n{SUBSCRIPTIONS}\n".encode() + canonical).hexdigest()
    IdempotencyKey.objects.create(
        user=case_system.api_client.user, key="running", method="POST", path=SUBSCRIPTIONS, request_hash=fingerprint
    )

    response = case_system.post(SUBSCRIPTIONS, body, HTTP_IDEMPOTENCY_KEY="running")

    assert response.status_code == 409
    assert response.json()["code"] == "idempotency_in_progress"
    assert response["Retry-After"] == "1"
    assert not WebhookSubscription.objects.exists()
