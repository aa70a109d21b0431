"""Who gets what, for every page and API endpoint and every member of the standard cast.

One table: a row per URL pattern (a new pattern without a row fails the test), the answer
each role gets, and every body searched for council B's person and provider B's sealed fee."""

import re

import pytest
from django.conf import settings
from django.shortcuts import resolve_url
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from .gates_world import LEAK_MARKERS, build_world

ROLES = [
    "anon",
    "broker_a",
    "commissioner_a",
    "broker_b",
    "commissioner_b",
    "provider_a",
    "provider_b",
    "api_a_read",
    "api_a_requests",
    "api_a_dashboards",
    "api_pa_read",
    "api_pa_bids",
]
# Who may see each kind of planted value.
LEAK_ALLOWED = {
    "request": {"broker_b", "commissioner_b"},
    "placement": {"broker_b", "commissioner_b", "provider_b"},
    "bid": {"provider_b"},
}


def url_names() -> set[str]:
    """Every named pattern outside the admin site, as 'namespace:name'."""
    names = set()

    def walk(resolver, namespace):
        for pattern in resolver.url_patterns:
            if isinstance(pattern, URLResolver):
                if pattern.namespace == "admin":
                    continue
                inner = ":".join(filter(None, [namespace, pattern.namespace]))
                walk(pattern, inner)
            elif isinstance(pattern, URLPattern):
                names.add(":".join(filter(None, [namespace, pattern.name])))

    walk(get_resolver(), "")
    return names


def clients(world) -> dict[str, Client]:
    made = {"anon": Client()}
    for role, user in world.users.items():
        made[role] = Client()
        made[role].force_login(user)
    for role, token in world.api_tokens.items():
        made[role] = Client(HTTP_AUTHORIZATION=f"Bearer {token}")
    return made


def body_of(response) -> bytes:
    if getattr(response, "streaming", False):
        return b"".join(response.streaming_content)
    return response.content


def answer(response) -> str:
    if response.status_code == 302:
        return "in" if response["Location"].startswith(resolve_url(settings.LOGIN_URL)) else "302"
    return str(response.status_code)


# Columns follow ROLES. "in": redirected to sign-in; "-": not exercised here because the request
# would change the shared data (the owning feature's tests cover it). Action URLs are POSTed.
# fmt: off
MATRIX = {
    "api-api-client-revoke": ("POST", ['api_client'], "401 403 -   403 404 404 404 403 403 403 403 403"),
    "api-api-clients": ("GET", [], "401 403 200 403 200 200 200 403 403 403 403 403"),
    "api-block-contract": ("GET", ['contract'], "401 200 200 404 404 200 404 200 403 403 200 403"),
    "api-block-contract-rates": ("POST", ['contract'], "401 403 400 403 404 403 403 403 403 403 403 403"),
    "api-block-contracts": ("GET", [], "401 200 200 200 200 200 200 200 403 403 200 403"),
    "api-block-utilisation": ("GET", [], "401 200 200 200 200 403 403 403 403 200 403 403"),
    "api-care-home": ("GET", ['home'], "401 200 200 200 200 200 404 200 403 403 200 403"),
    "api-care-home-vacancies": ("GET", ['home'], "401 200 200 200 200 200 404 200 403 403 200 403"),
    "api-care-home-bed-vacancies": ("GET", ['home'], "401 200 200 200 200 200 404 200 403 403 200 403"),
    "api-care-home-bed-vacancies-confirm": ("POST", ['home'], "401 403 403 403 403 200 404 403 403 403 403 403"),
    "api-care-home-admission-closures": ("GET", ['home'], "401 200 200 200 200 200 404 200 403 403 200 403"),
    "api-admission-closure-lift": ("POST", ['closure'], "401 403 400 403 404 404 404 403 403 403 403 403"),
    "api-bed-vacancies": ("GET", [], "401 200 200 200 200 403 403 200 403 403 403 403"),
    "api-care-homes": ("GET", [], "401 200 200 200 200 200 200 200 403 403 200 403"),
    "api-dashboard-at-risk": ("GET", [], "401 200 200 200 200 403 403 403 403 200 403 403"),
    "api-dashboard-bids-per-tender": ("GET", [], "401 403 200 403 200 403 403 403 403 200 403 403"),
    "api-dashboard-block-bed-utilisation": ("GET", [], "401 403 200 403 200 403 403 403 403 200 403 403"),
    "api-dashboard-discharge": ("GET", [], "401 403 200 403 200 403 403 403 403 200 403 403"),
    "api-dashboard-market": ("GET", [], "401 403 200 403 200 403 403 403 403 200 403 403"),
    "api-dashboard-mean-weekly-cost": ("GET", [], "401 403 200 403 200 403 403 403 403 200 403 403"),
    "api-dashboard-placements-by-client-group": ("GET", [], "401 403 200 403 200 403 403 403 403 200 403 403"),
    "api-dashboard-rating-mix": ("GET", [], "401 403 200 403 200 403 403 403 403 200 403 403"),
    "api-dashboard-timeliness": ("GET", [], "401 403 200 403 200 403 403 403 403 200 403 403"),
    "api-docs": ("GET", [], "200 200 200 200 200 200 200 200 200 200 200 200"),
    "api-invitations": ("GET", [], "401 403 403 403 403 200 200 403 403 403 403 200"),
    "api-lots": ("GET", [], "401 200 200 200 200 403 403 200 403 403 403 403"),
    "api-ocds-releases": ("GET", [], "200 200 200 200 200 200 200 200 200 200 200 200"),
    "api-payment-schedules": ("GET", [], "401 200 200 200 200 200 200 200 403 403 200 403"),
    "api-placement-assessment-outcome": (
        "POST", ['placement'], "401 400 403 404 403 403 403 403 400 403 403 403"
    ),
    "api-placement-request": ("GET", ['request'], "401 200 200 404 404 403 403 200 403 403 403 403"),
    "api-placement-request-block-offer-accept": (
        "POST", ['request'], "401 400 403 404 403 403 403 403 400 403 403 403"
    ),
    "api-placement-request-block-offer-decline": (
        "POST", ['request'], "401 400 403 404 403 403 403 403 400 403 403 403"
    ),
    "api-placement-request-publish": ("POST", ['request'], "401 409 403 404 404 403 403 403 409 403 403 403"),
    "api-placement-requests": ("GET", [], "401 200 200 200 200 403 403 200 403 403 403 403"),
    "api-placements": ("GET", [], "401 200 200 200 200 200 200 200 403 403 200 403"),
    "api-service-agreement": ("GET", ['agreement'], "401 200 200 404 404 200 404 200 403 403 200 403"),
    "api-service-agreement-pdf": ("GET", ['agreement'], "401 200 200 404 404 200 404 200 403 403 200 403"),
    "api-service-agreements": ("GET", [], "401 200 200 200 200 200 200 200 403 403 200 403"),
    "api-tender": ("GET", ['tender'], "401 200 200 404 404 200 200 200 403 403 200 403"),
    "api-tender-award": ("POST", ['tender'], "401 400 403 404 403 403 403 403 400 403 403 403"),
    "api-tender-abnormal-price-confirm": ("POST", ['tender', 'bid'], "401 409 403 404 403 403 403 403 409 403 403 403"),
    "api-tender-abnormal-prices": ("GET", ['tender'], "401 409 409 404 404 403 403 409 403 403 403 403"),
    "api-tender-award-status": ("GET", ['tender'], "401 200 200 404 404 403 403 200 403 403 403 403"),
    "api-tender-bid-bed-hold-confirm": ("POST", ['tender', 'bid'], "401 403 403 403 403 404 404 403 403 403 403 404"),
    "api-tender-bid-challenge": ("POST", ['tender', 'bid'], "401 403 403 403 403 400 404 403 403 403 403 400"),
    "api-tender-bid-outcome": ("GET", ['tender', 'bid'], "401 403 403 403 403 200 404 403 403 403 200 403"),
    "api-tender-challenge-decision": ("POST", ['tender', 1], "401 404 404 404 404 403 403 403 404 403 403 403"),
    "api-tender-choice": ("GET", ['tender'], "401 200 200 404 404 403 403 200 403 403 403 403"),
    "api-tender-move-to-next-bid": ("POST", ['tender'], "401 400 403 404 403 403 403 403 400 403 403 403"),
    "api-tender-question-answer": ("POST", ['tender', 1], "401 404 403 404 403 403 403 403 404 403 403 403"),
    "api-tender-questions": ("GET", ['tender'], "401 200 200 404 404 200 200 200 403 403 200 403"),
    "api-tender-shortlists": ("GET", ['tender'], "401 200 200 404 404 403 403 200 403 403 403 403"),
    "api-tender-bid": ("GET", ['tender', 'bid'], "401 403 403 403 403 200 404 403 403 403 200 403"),
    "api-tender-bids": ("GET", ['tender'], "401 403 403 403 403 200 200 403 403 403 200 403"),
    "api-tender-evaluation": ("GET", ['tender'], "401 409 409 404 404 403 403 409 403 403 403 403"),
    "api-webhook-deliveries": ("GET", [], "401 403 200 403 200 200 200 403 403 403 403 403"),
    "api-webhook-delivery": ("GET", ['delivery'], "401 403 200 403 404 404 404 403 403 403 403 403"),
    "api-webhook-delivery-redeliver": ("POST", ['delivery'], "401 403 409 403 404 404 404 403 403 403 403 403"),
    "api-webhook-subscription": ("GET", ['webhook'], "401 403 200 403 404 404 404 403 403 403 403 403"),
    "api-webhook-subscription-rotate-secret": ("POST", ['webhook'], "401 403 200 403 404 404 404 403 403 403 403 403"),
    "api-webhook-subscriptions": ("GET", [], "401 403 200 403 200 200 200 403 403 403 403 403"),
    "bidding:invitation_detail": ("GET", ['invitation'], "in  403 403 403 403 200 404 in  in  in  in  in"),
    "bidding:invitation_list": ("GET", [], "in  403 403 403 403 200 200 in  in  in  in  in"),
    "bidding:invitation_withdraw": ("POST", ['invitation'], "in  403 403 403 403 -   404 in  in  in  in  in"),
    "blockbeds:bed_detail": ("GET", ['bed'], "in  200 200 404 404 200 404 in  in  in  in  in"),
    "blockbeds:bed_live": ("GET", ['bed'], "in  403 200 403 404 403 403 in  in  in  in  in"),
    "blockbeds:bed_out_of_service": ("GET", ['bed'], "in  403 200 403 404 200 404 in  in  in  in  in"),
    "blockbeds:bed_return": ("GET", ['bed'], "in  403 200 403 404 200 404 in  in  in  in  in"),
    "blockbeds:contract_create": ("GET", [], "in  403 200 403 200 403 403 in  in  in  in  in"),
    "blockbeds:contract_detail": ("GET", ['contract'], "in  200 200 404 404 200 404 in  in  in  in  in"),
    "blockbeds:contract_edit": ("GET", ['contract'], "in  403 200 403 404 403 403 in  in  in  in  in"),
    "blockbeds:contract_rate_new": ("GET", ['contract'], "in  403 200 403 404 403 403 in  in  in  in  in"),
    "blockbeds:contract_list": ("GET", [], "in  200 200 200 200 200 200 in  in  in  in  in"),
    "blockbeds:occupancy_end": ("GET", ['occupancy'], "in  200 403 404 403 200 404 in  in  in  in  in"),
    "blockbeds:offer_decline": ("GET", ['offer_request'], "in  200 403 404 403 403 403 in  in  in  in  in"),
    "blockbeds:offer_fill": ("GET", ['offer_request', 'bed'], "in  200 403 404 403 403 403 in  in  in  in  in"),
    "blockbeds:utilisation": ("GET", [], "in  200 200 200 200 403 403 in  in  in  in  in"),
    "broker_home": ("GET", [], "in  200 403 200 403 403 403 in  in  in  in  in"),
    "commissioner_home": ("GET", [], "in  403 200 403 200 403 403 in  in  in  in  in"),
    "contracts:agreement_accept": ("POST", ['agreement'], "in  403 403 403 403 -   404 in  in  in  in  in"),
    "contracts:agreement_detail": ("GET", ['agreement'], "in  200 200 404 404 200 404 in  in  in  in  in"),
    "contracts:placement_detail": ("GET", ['placement'], "in  200 200 404 404 200 404 in  in  in  in  in"),
    "contracts:agreement_pdf": ("GET", ['agreement'], "in  200 200 404 404 200 404 in  in  in  in  in"),
    "contracts:agreements": ("GET", [], "in  200 200 200 200 200 200 in  in  in  in  in"),
    "contracts:fee_change": ("GET", ['agreement'], "in  200 200 404 404 403 403 in  in  in  in  in"),
    "contracts:payment_schedule": ("GET", [], "in  200 200 200 200 200 200 in  in  in  in  in"),
    "contracts:placement_end": ("GET", ['agreement'], "in  200 200 404 404 403 403 in  in  in  in  in"),
    "contracts:uplift_apply": ("POST", ['uplift'], "in  403 -   403 404 403 403 in  in  in  in  in"),
    "contracts:uplift_detail": ("GET", ['uplift'], "in  200 200 404 404 403 403 in  in  in  in  in"),
    "contracts:uplift_new": ("GET", [], "in  403 200 403 200 403 403 in  in  in  in  in"),
    "contracts:uplifts": ("GET", [], "in  200 200 200 200 403 403 in  in  in  in  in"),
    "dashboards:dashboard": ("GET", ['timeliness'], "in  403 200 403 200 403 403 in  in  in  in  in"),
    "dashboards:index": ("GET", [], "in  200 200 200 200 403 403 in  in  in  in  in"),
    "healthz": ("GET", [], "200 200 200 200 200 200 200 200 200 200 200 200"),
    "home": ("GET", [], "in  302 302 302 302 302 302 in  in  in  in  in"),
    "fairness:provider_award": ("GET", ['bid'], "in  403 403 403 403 200 404 in  in  in  in  in"),
    "fairness:provider_questions": ("GET", ['tender'], "in  403 403 403 403 200 200 in  in  in  in  in"),
    "fairness:shortlist": ("GET", ['bad-token'], "404 404 404 404 404 404 404 404 404 404 404 404"),
    "fairness:tender_fairness": ("GET", ['tender'], "in  200 403 404 403 403 403 in  in  in  in  in"),
    "integrations:api_client_create": ("GET", [], "in  403 200 403 200 200 200 in  in  in  in  in"),
    "integrations:api_client_revoke": ("GET", ['api_client'], "in  403 200 403 404 404 404 in  in  in  in  in"),
    "integrations:api_clients": ("GET", [], "in  403 200 403 200 200 200 in  in  in  in  in"),
    "integrations:webhook_create": ("GET", [], "in  403 200 403 200 200 200 in  in  in  in  in"),
    "integrations:webhook_delivery": ("GET", ['delivery'], "in  403 200 403 404 404 404 in  in  in  in  in"),
    "integrations:webhook_detail": ("GET", ['webhook'], "in  403 200 403 404 404 404 in  in  in  in  in"),
    "integrations:webhook_disable": ("POST", ['webhook'], "in  403 -   403 404 404 404 in  in  in  in  in"),
    "integrations:webhooks": ("GET", [], "in  403 200 403 200 200 200 in  in  in  in  in"),
    "login": ("GET", [], "200 302 302 302 302 302 302 200 200 200 200 200"),
    "password_reset": ("GET", [], "200 200 200 200 200 200 200 200 200 200 200 200"),
    "password_reset_complete": ("GET", [], "200 200 200 200 200 200 200 200 200 200 200 200"),
    "password_reset_confirm": ("GET", ['MQ', 'bad-token'], "200 200 200 200 200 200 200 200 200 200 200 200"),
    "password_reset_done": ("GET", [], "200 200 200 200 200 200 200 200 200 200 200 200"),
    "lots:rules": ("GET", [], "in  200 200 200 200 403 403 in  in  in  in  in"),
    "lots:rules_edit": ("GET", [1], "in  403 200 403 200 403 403 in  in  in  in  in"),
    "lots:urgency_rules_edit": (
        "GET", [1, "hospital_discharge"], "in  403 200 403 200 403 403 in  in  in  in  in"
    ),
    "placements:assessment_outcome": ("GET", ['placement'], "in  200 403 404 403 403 403 in  in  in  in  in"),
    "placements:request_award": ("POST", ['request'], "in  400 403 404 403 403 403 in  in  in  in  in"),
    "placements:request_cancel": ("POST", ['request'], "in  400 403 404 403 403 403 in  in  in  in  in"),
    "placements:request_create": ("GET", [], "in  200 403 200 403 403 403 in  in  in  in  in"),
    "placements:request_detail": ("GET", ['request'], "in  200 200 404 404 403 403 in  in  in  in  in"),
    "placements:request_list": ("GET", [], "in  200 200 200 200 403 403 in  in  in  in  in"),
    "placements:request_publish": ("POST", ['request'], "in  409 403 404 403 403 403 in  in  in  in  in"),
    "placements:request_retender": ("POST", ['request'], "in  400 403 404 403 403 403 in  in  in  in  in"),
    "provider_home": ("GET", [], "in  403 403 403 403 200 200 in  in  in  in  in"),
    "providers:admission_reinstate": ("GET", ['admission'], "in  403 200 403 404 403 403 in  in  in  in  in"),
    "providers:admission_suspend": ("GET", ['admission'], "in  403 200 403 404 403 403 in  in  in  in  in"),
    "providers:application_decide": ("GET", ['application'], "in  403 200 403 404 403 403 in  in  in  in  in"),
    "providers:application_queue": ("GET", [], "in  403 200 403 200 403 403 in  in  in  in  in"),
    "providers:bed_vacancy_search": ("GET", [], "in  200 200 200 200 403 403 in  in  in  in  in"),
    "providers:care_home_search": ("GET", [], "in  200 200 200 200 403 403 in  in  in  in  in"),
    "providers:home_add": ("GET", [], "in  403 403 403 403 200 200 in  in  in  in  in"),
    "providers:home_apply": ("GET", ['home'], "in  403 403 403 403 200 404 in  in  in  in  in"),
    "providers:home_detail": ("GET", ['home'], "in  403 403 403 403 200 404 in  in  in  in  in"),
    "providers:home_vacancies": ("GET", ['home'], "in  403 403 403 403 200 404 in  in  in  in  in"),
    "providers:home_bed_vacancies": ("GET", ['home'], "in  403 403 403 403 200 404 in  in  in  in  in"),
    "providers:home_bed_vacancies_confirm": ("POST", ['home'], "in  403 403 403 403 302 404 in  in  in  in  in"),
    "providers:home_closures": ("GET", ['home'], "in  403 403 403 403 200 404 in  in  in  in  in"),
    "providers:closure_lift": ("GET", ['closure'], "in  403 200 403 404 404 404 in  in  in  in  in"),
    "providers:embargoes": ("GET", [], "in  403 200 403 200 403 403 in  in  in  in  in"),
    "providers:members": ("GET", [], "in  403 200 403 200 403 403 in  in  in  in  in"),
    "providers:my_applications": ("GET", [], "in  403 403 403 403 200 200 in  in  in  in  in"),
    "providers:my_homes": ("GET", [], "in  403 403 403 403 200 200 in  in  in  in  in"),
    "providers:provider_invite": ("GET", [], "in  403 200 403 200 403 403 in  in  in  in  in"),
    "providers:suspensions": ("GET", [], "in  403 200 403 200 403 403 in  in  in  in  in"),
    "providers:welcome": ("GET", ['MQ', 'bad-token'], "200 200 200 200 200 200 200 200 200 200 200 200"),
    "providers:windows": ("GET", [], "in  403 200 403 200 403 403 in  in  in  in  in"),
    "quality:ratings": ("GET", ['home'], "in  403 200 403 404 403 403 in  in  in  in  in"),
    "schema": ("GET", [], "200 200 200 200 200 200 200 200 200 200 200 200"),
    "logout": ("POST", [], "in  in  in  in  in  in  in  in  in  in  in  in"),
}
# fmt: on
QUERY = {"api-payment-schedules": "?period=2026-W15"}
FORM_TAG = re.compile(rb"<form\b[^>]*>")


def test_the_matrix_has_a_row_for_every_url_pattern():
    assert url_names() == set(MATRIX), "Add a row to MATRIX for each new URL (and remove rows of removed ones)."


@pytest.mark.django_db
def test_every_role_gets_the_expected_answer_and_nothing_of_another_organisation():
    world = build_world()
    callers = clients(world)
    wrong, leaks, validating = [], [], set()
    for name, (method, args, cells) in MATRIX.items():
        path = reverse(name, args=[world.ids.get(arg, arg) for arg in args]) + QUERY.get(name, "")
        for role, expected in zip(ROLES, cells.split(), strict=True):
            if expected == "-":
                continue
            caller = callers[role]
            if method == "GET":
                response = caller.get(path)
            elif path.startswith("/api/"):
                response = caller.post(path, {}, content_type="application/json")
            else:
                response = caller.post(path)
            got = answer(response)
            if got != expected:
                wrong.append(f"{method} {path} as {role}: expected {expected}, got {got}")
            body = body_of(response)
            if got == "200" and response.get("Content-Type", "").startswith("text/html"):
                # Forms are checked on the server; the browser's own prompts would come before
                # the GOV.UK error summary.
                validating.update(
                    f"{name}: {tag.decode()[:80]}" for tag in FORM_TAG.findall(body) if b"novalidate" not in tag
                )
            for kind, markers in LEAK_MARKERS.items():
                if role not in LEAK_ALLOWED[kind] and any(marker in body for marker in markers):
                    leaks.append(f"{method} {path} as {role} shows council/provider B's {kind}")
    assert not leaks, "\n".join(leaks)
    assert not wrong, "\n".join(wrong)
    assert not validating, "Forms without novalidate:\n" + "\n".join(sorted(validating))
