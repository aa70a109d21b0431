"""Lost updates and retried writes: If-Match is honoured on PATCH, PUT and DELETE, and an
Idempotency-Key covers every write, comparing bodies as JSON rather than as bytes."""

import json
from decimal import Decimal

import pytest

from bidding.models import Bid
from core.models import AuditEvent

from .factories import BidFactory, InvitationFactory, PlacementRequestFactory, TenderFactory, admitted_home

pytestmark = pytest.mark.django_db


@pytest.fixture
def bid(council_a, broker_a, provider_a):
    home = admitted_home(council_a, provider=provider_a, name="Brook House")
    tender = TenderFactory(request=PlacementRequestFactory(commissioner=council_a, created_by=broker_a))
    return BidFactory(invitation=InvitationFactory(tender=tender, care_home=home), weekly_fee=Decimal("850.00"))


@pytest.fixture
def provider_system(api_as, provider_a):
    return api_as(provider_a, scopes=["read", "bids"])


def _url(bid) -> str:
    return f"/api/v1/tenders/{bid.tender_id}/bids/{bid.pk}/"


def _patch(caller, bid, body: str, **headers):
    return caller.http.patch(_url(bid), body, content_type="application/json", **headers)


def _amendments(bid) -> int:
    return AuditEvent.objects.filter(verb="bidding.bid.amended", detail__bid=bid.pk).count()


def test_a_stale_if_match_is_refused_with_412_and_nothing_changes(provider_system, bid):
    stale = provider_system.get(_url(bid))["ETag"]
    assert _patch(provider_system, bid, '{"weekly_fee": "840.00"}', HTTP_IF_MATCH=stale).status_code == 200

    refused = _patch(provider_system, bid, '{"weekly_fee": "999.00"}', HTTP_IF_MATCH=stale)

    assert refused.status_code == 412
    assert refused["Content-Type"] == "application/problem+json"
    assert refused.json()["code"] == "precondition_failed"
    bid.refresh_from_db()
    assert bid.weekly_fee == Decimal("840.00")
    assert refused["ETag"] == provider_system.get(_url(bid))["ETag"]


def test_a_matching_if_match_writes_and_answers_with_the_new_etag(provider_system, bid):
    before = provider_system.get(_url(bid))["ETag"]

    response = _patch(provider_system, bid, '{"weekly_fee": "845.50"}', HTTP_IF_MATCH=before)

    assert response.status_code == 200
    assert response.json()["weekly_fee"] == "845.50"
    assert response["ETag"] != before
    assert response["ETag"] == provider_system.get(_url(bid))["ETag"]
    bid.refresh_from_db()
    assert bid.weekly_fee == Decimal("845.50")


def test_a_stale_if_match_on_delete_keeps_the_bid(provider_system, bid):
    stale = provider_system.get(_url(bid))["ETag"]
    _patch(provider_system, bid, '{"notes": "Ground-floor room"}')

    refused = provider_system.delete(_url(bid), HTTP_IF_MATCH=stale)
    current = provider_system.get(_url(bid))["ETag"]
    withdrawn = provider_system.delete(_url(bid), HTTP_IF_MATCH=current)

    assert refused.status_code == 412
    assert withdrawn.status_code == 204
    bid.refresh_from_db()
    assert bid.status == Bid.Status.WITHDRAWN


def test_if_match_star_and_no_if_match_write_as_before(provider_system, bid):
    first = _patch(provider_system, bid, '{"weekly_fee": "830.00"}', HTTP_IF_MATCH="*")
    assert first.status_code == 200, first.json()
    assert _patch(provider_system, bid, '{"weekly_fee": "820.00"}').status_code == 200
    bid.refresh_from_db()
    assert bid.weekly_fee == Decimal("820.00")


def test_if_match_on_another_providers_bid_is_404_not_412(api_as, provider_b, bid):
    response = _patch(api_as(provider_b, scopes=["read", "bids"]), bid, '{"weekly_fee": "1.00"}', HTTP_IF_MATCH='"x"')

    assert response.status_code == 404
    bid.refresh_from_db()
    assert bid.weekly_fee == Decimal("850.00")


def test_the_same_key_and_the_same_json_in_other_whitespace_gets_the_stored_response(provider_system, bid):
    first = _patch(provider_system, bid, '{"weekly_fee": "860.00", "notes": "Room 4"}', HTTP_IDEMPOTENCY_KEY="amend-1")
    retry = _patch(
        provider_system,
        bid,
        '{\n  "notes" :"Room 4",\n  "weekly_fee":   "860.00"\n}\n',
        HTTP_IDEMPOTENCY_KEY="amend-1",
    )

    assert first.status_code == 200
    assert retry.status_code == 200
    assert retry["Idempotent-Replayed"] == "true"
    assert retry.json() == first.json()
    assert _amendments(bid) == 1


def test_the_same_key_with_a_different_body_on_patch_is_422_and_changes_nothing(provider_system, bid):
    first = _patch(provider_system, bid, json.dumps({"weekly_fee": "860.00"}), HTTP_IDEMPOTENCY_KEY="amend-2")
    reused = _patch(provider_system, bid, json.dumps({"weekly_fee": "990.00"}), HTTP_IDEMPOTENCY_KEY="amend-2")

    assert first.status_code == 200
    assert reused.status_code == 422
    assert reused["Content-Type"] == "application/problem+json"
    assert reused.json()["code"] == "idempotency_key_reused"
    bid.refresh_from_db()
    assert bid.weekly_fee == Decimal("860.00")
    assert _amendments(bid) == 1


def test_a_number_written_differently_is_a_different_request(provider_system, bid):
    _patch(provider_system, bid, '{"weekly_fee": 860.5}', HTTP_IDEMPOTENCY_KEY="amend-3")

    other = _patch(provider_system, bid, '{"weekly_fee": "860.5"}', HTTP_IDEMPOTENCY_KEY="amend-3")

    assert other.status_code == 422


def test_a_delete_with_a_key_runs_once(provider_system, bid):
    first = provider_system.delete(_url(bid), HTTP_IDEMPOTENCY_KEY="withdraw-1")
    retry = provider_system.delete(_url(bid), HTTP_IDEMPOTENCY_KEY="withdraw-1")
    again = provider_system.delete(_url(bid))

    assert first.status_code == 204
    assert retry.status_code == 204
    assert retry["Idempotent-Replayed"] == "true"
    assert again.status_code == 409


def test_the_schema_states_etag_304_if_match_412_and_idempotency_keys(provider_system):
    schema = provider_system.get("/api/v1/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()
    bid = schema["paths"]["/api/v1/tenders/{id}/bids/{bid_pk}/"]

    read = bid["get"]
    assert "ETag" in read["responses"]["200"]["headers"]
    assert "304" in read["responses"]
    assert "If-None-Match" in {p["name"] for p in read["parameters"]}
    for method in ("patch", "delete"):
        operation = bid[method]
        names = {p["name"] for p in operation["parameters"]}
        assert {"If-Match", "Idempotency-Key"} <= names
        assert "412" in operation["responses"] and "422" in operation["responses"]
