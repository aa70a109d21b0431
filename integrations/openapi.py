"""OpenAPI post-processing: the behaviour every endpoint shares, described once.

Errors are problem details (RFC 9457); every endpoint may refuse a caller (401/403) or
throttle it (429 with Retry-After); every POST takes an Idempotency-Key. Also the
documentation page that shows the schema.
"""

from drf_spectacular.utils import extend_schema
from drf_spectacular.views import SpectacularSwaggerView

from core.api import PROBLEM_JSON

PROBLEM_REF = {"$ref": "#/components/schemas/Problem"}

PROBLEM_SCHEMA = {
    "type": "object",
    "description": "Problem details (RFC 9457).",
    "properties": {
        "type": {"type": "string", "example": "about:blank"},
        "title": {"type": "string", "example": "Invalid request"},
        "status": {"type": "integer", "example": 400},
        "detail": {"type": "string", "example": "Some fields are not valid."},
        "code": {"type": "string", "example": "invalid"},
        "errors": {
            "$ref": "#/components/schemas/FieldErrors",
            "description": "Messages by field name, for invalid requests.",
        },
    },
    "required": ["type", "title", "status", "detail", "code"],
    "example": {
        "type": "about:blank",
        "title": "Invalid request",
        "status": 400,
        "detail": "Some fields are not valid.",
        "code": "invalid",
        "errors": {"needed_from": ["This field is required."]},
    },
}

# A field's messages are a list; a list's or an object's are nested as the request body is (by item
# position, or by inner field name).
FIELD_ERRORS_SCHEMA = {
    "type": "object",
    "description": "Messages by field name, nested as the request body is.",
    "additionalProperties": {
        "oneOf": [
            {
                "type": "array",
                "items": {"oneOf": [{"type": "string"}, {"$ref": "#/components/schemas/FieldErrors"}]},
            },
            {"$ref": "#/components/schemas/FieldErrors"},
        ]
    },
}

IDEMPOTENCY_PARAMETER = {
    "in": "header",
    "name": "Idempotency-Key",
    "required": False,
    "schema": {"type": "string", "minLength": 1, "maxLength": 255},
    "description": "Send a unique value (e.g. a UUID) to make retries safe: a retry with the same key returns "
    "the first response and changes nothing; the same key with a different request is refused (422).",
}

RETRY_AFTER = {"Retry-After": {"schema": {"type": "integer"}, "description": "Seconds to wait before trying again."}}

SHARED_RESPONSES = {
    "400": "The request is not valid; `errors` names the fields.",
    "401": "Not signed in, or the API token is invalid or revoked.",
    "403": "Your role or your API client's scopes do not allow this.",
    "404": "Unknown, or not your organisation's.",
    "409": "The object's state does not allow this, or a request with this Idempotency-Key is still running.",
    "422": "This Idempotency-Key was already used with a different request.",
    "429": "Too many requests from this client: wait for Retry-After seconds.",
}

METHODS = ("get", "put", "post", "patch", "delete", "head", "options")

# Request examples for the main flows, by operation id: a case system creates a request and
# sends it out to tender, a provider system bids, the council's broker awards.
FLOW_EXAMPLES = {
    "placement_requests_create": {
        "From a case": {
            "summary": "A case system creates a placement request",
            "value": {
                "case_reference": "MOSAIC-104233",
                "lot": 2,
                "needs_summary": "Older person with dementia; needs a ground-floor room and help at night.",
                "specialisms": ["dementia"],
                "local_authority": "Staffordshire",
                "needed_from": "2026-12-01",
                "max_weekly_rate": "950.00",
            },
        }
    },
    "placement_requests_publish_create": {
        "Default window": {"summary": "Send it out to tender with the lot's usual window", "value": {}}
    },
    "tenders_bids_create": {
        "A sealed bid": {
            "summary": "A provider system bids for one of its homes",
            "value": {
                "care_home": 42,
                "weekly_fee": "895.00",
                "earliest_start": "2026-12-02",
                "needs_confirmed": True,
                "notes": "Ground-floor room with en-suite available.",
            },
        }
    },
    "tenders_award_create": {
        "Top-ranked bid": {"summary": "Award the top-ranked bid", "value": {"bid": 311}},
        "The person's choice": {
            "summary": "Award another bid: the person's choice, with a third-party top-up",
            "value": {
                "bid": 314,
                "reason": "The person chose this home to be near family.",
                "top_up_payer": "Family member",
            },
        },
    },
}


def _problem(description: str, *, retry_after: bool = False) -> dict:
    response = {"description": description, "content": {PROBLEM_JSON: {"schema": PROBLEM_REF}}}
    if retry_after:
        response["headers"] = RETRY_AFTER
    return response


def _codes_for(method: str, operation: dict, path: str) -> list[str]:
    codes = ["429"]
    authenticated = operation.get("security") != [] and any(operation.get("security") or [{}])
    if authenticated:
        codes += ["401", "403"]
    if operation.get("parameters") or operation.get("requestBody"):
        codes.append("400")
    parameter_names = {parameter.get("name") for parameter in operation.get("parameters", [])}
    if "{" in path or "cursor" in parameter_names:
        # An unknown id, or a cursor that does not decode (DRF answers 404 for both).
        codes.append("404")
    if method == "post":
        codes += ["400", "409", "422"]
    return codes


def postprocess_problem_responses(result, generator, request, public):
    schemas = result.setdefault("components", {}).setdefault("schemas", {})
    schemas["Problem"] = PROBLEM_SCHEMA
    schemas["FieldErrors"] = FIELD_ERRORS_SCHEMA
    for path, item in result.get("paths", {}).items():
        for method in METHODS:
            operation = item.get(method)
            if operation is None:
                continue
            responses = operation.setdefault("responses", {})
            for code in _codes_for(method, operation, path):
                responses.setdefault(code, {"description": SHARED_RESPONSES[code]})
            for code, response in responses.items():
                if code.isdigit() and int(code) >= 400:
                    description = response.get("description") or SHARED_RESPONSES.get(code, "Error.")
                    responses[code] = _problem(description, retry_after=code == "429")
            examples = FLOW_EXAMPLES.get(operation.get("operationId"))
            json_body = operation.get("requestBody", {}).get("content", {}).get("application/json")
            if examples and json_body is not None:
                json_body.setdefault("examples", examples)
            if method == "post":
                parameters = operation.setdefault("parameters", [])
                if not any(p.get("name") == "Idempotency-Key" for p in parameters):
                    parameters.append(IDEMPOTENCY_PARAMETER)
    return result


PAGE_LINK_EXAMPLES = {
    "next": "https://placements.example.org/api/v1/placement-requests/?cursor=cD0yMDI2LTExLTMw",
    "previous": "https://placements.example.org/api/v1/placement-requests/?cursor=cj0xJnA9MjAyNi0xMS0yOQ",
}


def _nullable_as_type(node) -> None:
    """OpenAPI 3.1 has no `nullable`: say it with the type, as JSON Schema does."""
    if isinstance(node, list):
        for item in node:
            _nullable_as_type(item)
        return
    if not isinstance(node, dict):
        return
    if node.pop("nullable", False):
        kind = node.get("type")
        if isinstance(kind, str):
            node["type"] = [kind, "null"]
        elif isinstance(kind, list) and "null" not in kind:
            kind.append("null")
        elif kind is None:
            alternatives = [{key: node.pop(key)} for key in ("$ref", "allOf") if key in node]
            node["oneOf"] = [*node.get("oneOf", alternatives), {"type": "null"}]
    for value in node.values():
        _nullable_as_type(value)


def postprocess_openapi_31(result, generator, request, public):
    """Keep the 3.1 schema valid where parts still speak 3.0: DRF's page links are `nullable`, and
    their example `next` link is not a URI; a linter and a generator then read every field's type."""
    _nullable_as_type(result)
    for name, schema in result.get("components", {}).get("schemas", {}).items():
        if name.startswith("Paginated"):
            for link, example in PAGE_LINK_EXAMPLES.items():
                if link in schema.get("properties", {}):
                    schema["properties"][link]["example"] = example
    return result


class ApiDocsView(SpectacularSwaggerView):
    """Swagger UI for the schema, isolated from other windows like every other page.

    drf-spectacular relaxes the opener policy for OAuth2 sign-in pop-ups; the API signs in with
    bearer tokens or the session, so the page keeps the service's same-origin policy.
    """

    @extend_schema(exclude=True)
    def get(self, request, *args, **kwargs):
        response = super().get(request, *args, **kwargs)
        del response.headers["Cross-Origin-Opener-Policy"]
        return response
