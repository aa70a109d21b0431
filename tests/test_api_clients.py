"""API clients: created with scopes by commissioners and providers, shown once, revoked at once, audited."""

import pytest

from core.models import AuditEvent
from organisations.models import ApiClient
from organisations.services import api_client_revoke

from .factories import CareHomeFactory
from .integration_data import awarded_tender, bid, open_tender, placement_request


@pytest.mark.django_db
def test_revoked_client_gets_401_at_once(api_as, council_a, commissioner_a, as_user):
    system = api_as(council_a, scopes=["read", "webhooks"])
    assert system.get("/api/v1/webhooks/subscriptions/").status_code == 200

    response = as_user(commissioner_a).post(f"/api/v1/api-clients/{system.api_client.pk}/revoke/")

    assert response.status_code == 200
    refused = system.get("/api/v1/webhooks/subscriptions/")
    assert refused.status_code == 401
    assert refused["Content-Type"] == "application/problem+json"
    assert refused["WWW-Authenticate"] == "Bearer"
    assert AuditEvent.objects.filter(verb="organisations.api_client.revoked", actor=commissioner_a).count() == 1


@pytest.mark.django_db
def test_commissioner_creates_a_client_on_the_page_and_sees_the_token_once(as_user, commissioner_a):
    web = as_user(commissioner_a)

    created = web.post("/integrations/api-clients/new/", {"name": "Mosaic", "scopes": ["read", "placement-requests"]})

    # Post/Redirect/Get: the page that shows the token is a GET, so reloading it makes nothing.
    assert created.status_code == 302
    page = web.get(created["Location"])
    assert page.status_code == 200
    client = ApiClient.objects.get()
    token = page.context["token"]
    assert token.startswith(f"{client.key_id}.")
    assert token.encode() in page.content
    assert "no-store" in page["Cache-Control"]
    assert client.secret_hash not in token
    listing = web.get("/integrations/api-clients/")
    assert token.encode() not in listing.content, "the token is shown once: reloading the page hides it"
    assert ApiClient.objects.count() == 1
    assert b"Mosaic" in listing.content and b"Never" in listing.content
    assert AuditEvent.objects.filter(verb="organisations.api_client.created", actor=commissioner_a).exists()


@pytest.mark.django_db
def test_revoking_on_the_page_stops_the_client(as_user, api_as, council_a, commissioner_a):
    system = api_as(council_a, scopes=["read", "webhooks"])

    as_user(commissioner_a).post(f"/integrations/api-clients/{system.api_client.pk}/revoke/")

    assert system.get("/api/v1/webhooks/subscriptions/").status_code == 401
    listing = as_user(commissioner_a).get("/integrations/api-clients/?format=csv")
    assert b"revoked_at" in b"".join(listing.streaming_content)


@pytest.mark.django_db
def test_last_used_time_is_recorded(api_as, council_a):
    system = api_as(council_a, scopes=["read", "webhooks"])
    assert system.api_client.last_used_at is None

    system.get("/api/v1/webhooks/subscriptions/")

    system.api_client.refresh_from_db()
    assert system.api_client.last_used_at is not None


@pytest.mark.django_db
def test_provider_user_manages_own_clients_only(as_user, provider_user_a, provider_user_b, api_as, provider_b):
    other = api_as(provider_b, scopes=["read"])
    web = as_user(provider_user_a)

    created = web.post(
        "/api/v1/api-clients/", {"name": "Home system", "scopes": ["bids"]}, content_type="application/json"
    )

    assert created.status_code == 201
    assert created["Location"].startswith("http")
    assert created.json()["token"]
    assert [c["name"] for c in web.get("/api/v1/api-clients/").json()["results"]] == ["Home system"]
    assert web.post(f"/api/v1/api-clients/{other.api_client.pk}/revoke/").status_code == 404
    assert web.get(f"/integrations/api-clients/{other.api_client.pk}/revoke/").status_code == 404


@pytest.mark.django_db
def test_brokers_and_api_clients_cannot_manage_credentials(as_user, broker_a, api_as, council_a):
    assert as_user(broker_a).get("/api/v1/api-clients/").status_code == 403
    assert as_user(broker_a).get("/integrations/api-clients/").status_code == 403
    system = api_as(council_a, scopes=["read", "placement-requests", "bids", "dashboards", "webhooks"])
    assert system.post("/api/v1/api-clients/", {"name": "Escalation", "scopes": ["read"]}).status_code == 403


@pytest.mark.django_db
def test_revoking_twice_is_a_conflict(api_as, council_a, commissioner_a):
    system = api_as(council_a, scopes=["read"])
    api_client_revoke(client=system.api_client, actor=commissioner_a)

    from core.errors import ConflictError

    with pytest.raises(ConflictError):
        api_client_revoke(client=system.api_client, actor=commissioner_a)


@pytest.mark.django_db
def test_provider_a_client_never_reads_provider_b_bids_or_council_data(
    api_as, council_a, broker_a, provider_a, provider_b, provider_user_a, provider_user_b
):
    home_a = CareHomeFactory(provider=provider_a)
    home_b = CareHomeFactory(provider=provider_b)
    tender = open_tender(
        request=placement_request(commissioner=council_a, created_by=broker_a),
        created_by=broker_a,
        homes=[home_a, home_b],
    )
    bid(tender=tender, home=home_b, weekly_fee="987.65", submitted_by=provider_user_b)
    hidden = awarded_tender(commissioner=council_a, broker=broker_a, home=home_b, provider_user=provider_user_b)
    provider_a_system = api_as(provider_a, scopes=["read", "bids", "webhooks"])

    for path in _readable_api_paths():
        response = provider_a_system.get(path)
        text = response.content.decode()
        assert response.status_code in (200, 400, 403, 404), path
        assert "987.65" not in text, path
        assert "CASE-000123" not in text, path
        if path != "/api/v1/invitations/":
            assert "mobility" not in text, path
    # The inbox shows the anonymised needs of the tender provider A is invited to, and no other.
    inbox = provider_a_system.get("/api/v1/invitations/").json()["results"]
    assert [row["tender"]["id"] for row in inbox] == [tender.pk]
    b_bid = tender.bids.get()
    for path in (
        f"/api/v1/placement-requests/{hidden.request_id}/",
        f"/api/v1/tenders/{hidden.pk}/",
        f"/api/v1/tenders/{hidden.pk}/bids/",
        f"/api/v1/tenders/{hidden.pk}/bids/{hidden.award.bid_id}/",
        f"/api/v1/tenders/{hidden.pk}/evaluation/",
        f"/api/v1/tenders/{tender.pk}/bids/{b_bid.pk}/",
        f"/api/v1/placement-requests/{tender.request_id}/",
    ):
        assert provider_a_system.get(path).status_code in (403, 404), path
    # Provider A is invited to the open tender: it may read it, but not provider B's sealed bid.
    for path in (f"/api/v1/tenders/{tender.pk}/", f"/api/v1/tenders/{tender.pk}/bids/"):
        response = provider_a_system.get(path)
        assert response.status_code in (200, 403, 404), path
        assert "987.65" not in response.content.decode(), path
        assert "CASE-000123" not in response.content.decode(), path


def _readable_api_paths() -> list[str]:
    """Every parameterless GET endpoint of the API (the schema itself excepted)."""
    from config.urls import api_v1

    paths = []
    for route in _flatten(api_v1):
        if "<" in route or route.startswith(("schema", "docs")):
            continue
        paths.append(f"/api/v1/{route}")
    return sorted(set(paths))


def _flatten(patterns, prefix=""):
    for pattern in patterns:
        if hasattr(pattern, "url_patterns"):
            yield from _flatten(pattern.url_patterns, prefix + str(pattern.pattern))
        else:
            yield prefix + str(pattern.pattern)
