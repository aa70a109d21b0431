"""The OpenAPI description: every endpoint's shared behaviour (auth, problem details, idempotency) is in it."""

import pytest

pytestmark = pytest.mark.django_db


@pytest.fixture
def openapi(client):
    response = client.get("/api/v1/schema/?format=json")
    assert response.status_code == 200
    return response.json()


def operations(openapi):
    for path, item in openapi["paths"].items():
        for method, operation in item.items():
            if method in ("get", "post", "put", "patch", "delete"):
                yield path, method, operation


def test_api_clients_authenticate_with_a_bearer_token(openapi):
    scheme = openapi["components"]["securitySchemes"]["apiClientToken"]
    assert scheme["type"] == "http" and scheme["scheme"] == "bearer"
    webhooks = openapi["paths"]["/api/v1/webhooks/subscriptions/"]["get"]
    assert {"apiClientToken": []} in webhooks["security"]


def test_every_error_response_is_problem_json(openapi):
    for path, method, operation in operations(openapi):
        assert "429" in operation["responses"], (path, method)
        for code, response in operation["responses"].items():
            if int(code) >= 400:
                assert list(response["content"]) == ["application/problem+json"], (path, method, code)
    assert "Problem" in openapi["components"]["schemas"]


def test_every_post_documents_the_idempotency_key_and_its_refusals(openapi):
    posts = [(path, operation) for path, method, operation in operations(openapi) if method == "post"]
    assert posts
    for path, operation in posts:
        assert any(p["name"] == "Idempotency-Key" and p["in"] == "header" for p in operation["parameters"]), path
        assert {"409", "422"} <= set(operation["responses"]), path


def test_the_main_flows_have_examples(openapi):
    flows = {
        "placement_requests_create",
        "tenders_bids_create",
        "tenders_award_create",
        "webhooks_subscriptions_create",
    }
    found = set()
    for _, _, operation in operations(openapi):
        body = operation.get("requestBody", {}).get("content", {}).get("application/json", {})
        if operation["operationId"] in flows and body.get("examples"):
            found.add(operation["operationId"])
    assert found == flows


def test_docs_page_is_served_offline(client):
    response = client.get("/api/v1/docs/")
    assert response.status_code == 200
    assert b"swagger-ui" in response.content
    assert b"//cdn" not in response.content
