"""The OpenAPI description: every endpoint's shared behaviour (auth, problem details, idempotency) is in it."""

import json
import re
import subprocess
from pathlib import Path

import pytest
from django.conf import settings
from rest_framework.permissions import IsAuthenticated
from rest_framework.views import APIView

from organisations.models import ApiClient, Role
from organisations.schema import operation_access

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
    assert {"apiClientToken": ["webhooks"]} in webhooks["security"]


def test_every_operation_declares_the_scope_and_roles_it_needs(openapi):
    scopes = set(ApiClient.Scope.values)
    for path, method, operation in operations(openapi):
        required = operation["x-required-scopes"]
        assert isinstance(operation["x-roles"], list), (path, method)
        assert set(operation["x-roles"]) <= set(Role.values), (path, method)
        assert "**Access:**" in operation["description"], (path, method)
        token_requirements = [r["apiClientToken"] for r in operation["security"] if "apiClientToken" in r]
        if required:
            assert len(required) == 1 and required[0] in scopes, (path, method)
            assert token_requirements == [required], (path, method)
            assert operation["x-roles"], (path, method)
        else:
            assert token_requirements == [], (path, method)


def test_scopes_in_the_schema_are_the_ones_the_views_enforce(openapi):
    paths = openapi["paths"]
    assert paths["/api/v1/tenders/{id}/bids/"]["post"]["x-required-scopes"] == ["bids"]
    assert paths["/api/v1/tenders/{id}/bids/"]["post"]["x-roles"] == ["provider"]
    assert paths["/api/v1/placement-requests/"]["post"]["x-required-scopes"] == ["placement-requests"]
    assert paths["/api/v1/placement-requests/"]["get"]["x-required-scopes"] == ["read"]
    assert paths["/api/v1/tenders/{id}/award/"]["post"]["x-roles"] == ["broker"]
    assert paths["/api/v1/dashboards/timeliness/"]["get"]["x-required-scopes"] == ["dashboards"]
    # People manage API clients; no scope lets a system do it.
    api_clients = paths["/api/v1/api-clients/"]["post"]
    assert api_clients["x-required-scopes"] == [] and api_clients["security"] == [{"cookieAuth": []}]
    # Open data needs no sign-in at all.
    assert paths["/api/v1/ocds/releases/"]["get"]["security"] == []


def test_a_view_whose_permissions_name_no_scope_is_a_schema_error():
    class Unscoped(APIView):
        permission_classes = [IsAuthenticated]

    assert operation_access(Unscoped(), "GET") is None
    assert operation_access(Unscoped(), "POST") is None


def test_the_security_scheme_lists_every_scope(openapi):
    description = openapi["components"]["securitySchemes"]["apiClientToken"]["description"]
    for scope in ApiClient.Scope.values:
        assert f"`{scope}`" in description


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


# Free-form on purpose: a webhook delivery's payload is the event's own document, whatever its type.
FREE_FORM_ALLOWED = {"#/components/schemas/WebhookDeliveryDetailOutput/properties/payload"}


def free_form_schemas(node, pointer="#"):
    """Pointers to schemas that accept any object, or anything at all, in place of a described shape."""
    if isinstance(node, dict):
        shaped = {"properties", "additionalProperties", "oneOf", "allOf", "$ref"} & set(node)
        if node.get("additionalProperties") in (True, {}) or (node.get("type") == "object" and not shaped):
            yield pointer
        for key, value in node.items():
            if key in ("properties", "items") and isinstance(value, dict):
                children = value.items() if key == "properties" else [("", value)]
                for name, child in children:
                    child_pointer = f"{pointer}/{key}/{name}".rstrip("/")
                    if child == {}:
                        yield child_pointer
                    yield from free_form_schemas(child, child_pointer)
            elif key not in ("example", "examples"):
                yield from free_form_schemas(value, f"{pointer}/{key}")
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from free_form_schemas(value, f"{pointer}/{index}")


def test_no_schema_is_free_form_where_the_shape_is_known(openapi):
    assert set(free_form_schemas(openapi)) <= FREE_FORM_ALLOWED
    schemas = openapi["components"]["schemas"]
    placement = schemas["AwardOutput"]["properties"]["placement"]
    assert placement["allOf"] == [{"$ref": "#/components/schemas/PlacementOutput"}]
    ranked = schemas["EvaluationOutput"]["properties"]["ranked"]
    assert ranked["items"] == {"$ref": "#/components/schemas/RankedBidOutput"}
    for path, _method, operation in operations(openapi):
        if path.startswith("/api/v1/dashboards/"):
            schema = operation["responses"]["200"]["content"]["application/json"]["schema"]
            assert set(schema) == {"$ref"}, path


# Answers in which a property is really optional: OCDS paging links, and a problem's field errors.
OPTIONAL_IN_ANSWERS = {"OcdsLinks": {"next", "prev"}, "OcdsReleasePackage": {"links"}, "Problem": {"errors"}}


def test_every_property_an_answer_always_holds_is_required(openapi):
    """A generated client types a property that is not required as possibly absent."""
    optional = {}
    for name, component in openapi["components"]["schemas"].items():
        if name.endswith("Request") or component.get("type") != "object":
            continue
        missing = set(component.get("properties", {})) - set(component.get("required", []))
        if missing:
            optional[name] = missing
    assert optional == OPTIONAL_IN_ANSWERS
    placement = openapi["components"]["schemas"]["PlacementOutput"]
    assert {"end_date", "cancel_reason", "top_up_payer"} <= set(placement["required"])
    pages = openapi["components"]["schemas"]["PaginatedPlacementOutputList"]
    assert pages["required"] == ["next", "previous", "results"]
    # What a system sends stays optional where it may be left out.
    assert "notes" not in openapi["components"]["schemas"]["BidInputRequest"]["required"]


def test_component_names_differ_by_more_than_case_or_underscores(openapi):
    names = list(openapi["components"]["schemas"])
    folded = [name.lower().strip("_") for name in names]
    assert len(set(folded)) == len(folded), sorted(names)


def test_nullable_fields_say_their_type(openapi):
    def nullable_keywords(node, pointer="#"):
        if isinstance(node, dict):
            if "nullable" in node:
                yield pointer
            for key, value in node.items():
                if key != "properties":
                    yield from nullable_keywords(value, f"{pointer}/{key}")
                else:
                    for name, field in value.items():
                        yield from nullable_keywords(field, f"{pointer}/properties/{name}")
        elif isinstance(node, list):
            for index, value in enumerate(node):
                yield from nullable_keywords(value, f"{pointer}/{index}")

    assert openapi["openapi"].startswith("3.1")
    assert list(nullable_keywords(openapi)) == []
    occupancy = openapi["components"]["schemas"]["BedOutput"]["properties"]["occupancy"]
    assert {"type": "null"} in occupancy["oneOf"]


def test_the_schema_names_its_servers_licence_and_contact(openapi, settings):
    assert openapi["servers"][0]["url"] == settings.SITE_URL
    assert openapi["info"]["license"]["name"]
    assert openapi["info"]["contact"]["email"]


def test_redocly_finds_no_errors_in_the_schema(openapi, tmp_path):
    """The same lint as `make schema-lint` in CI, with the project's redocly.yaml."""
    root = Path(settings.BASE_DIR)
    redocly = root / "node_modules" / ".bin" / "redocly"
    assert redocly.exists(), "Run `make install` to install the front-end and lint tools."
    schema = tmp_path / "schema.json"
    schema.write_text(json.dumps(openapi))
    result = subprocess.run(
        [str(redocly), "lint", "--format=json", "--config", str(root / "redocly.yaml"), str(schema)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    report = json.loads(result.stdout)
    errors = [problem for problem in report["problems"] if problem["severity"] == "error"]
    assert errors == [], errors
    assert result.returncode == 0


ROLE_CALLERS = {
    Role.BROKER: "council_a",
    Role.COMMISSIONER: "council_a",
    Role.PROVIDER: "provider_a",
    Role.DISCHARGE_COORDINATOR: "hospital_a",
}


def test_each_declared_scope_is_the_one_the_operation_enforces(openapi, api_as, request):
    """A system with every scope but the declared one is refused (403); with the declared one alone it
    gets past the scope check (any other answer). Ids that exist nowhere are enough: permissions come first."""
    wrong = []
    for path, method, operation in operations(openapi):
        if not operation["x-required-scopes"]:
            continue
        (scope,) = operation["x-required-scopes"]
        role = operation["x-roles"][0]
        organisation = request.getfixturevalue(ROLE_CALLERS[role])
        others = [other for other in ApiClient.Scope.values if other != scope]
        url = re.sub(r"\{[^}]+\}", "999999", path)
        without = getattr(api_as(organisation, scopes=others, role=role), method)(url)
        only = getattr(api_as(organisation, scopes=[scope], role=role), method)(url)
        if without.status_code != 403 or only.status_code == 403:
            wrong.append(f"{method.upper()} {path} ({scope}, {role}): {without.status_code} / {only.status_code}")
    assert wrong == []
