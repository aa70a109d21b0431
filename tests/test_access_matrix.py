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
    "referral": {"broker_b", "commissioner_b", "coordinator_b"},
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
    "api-dashboard-market-position": ("GET", [], "401 403 200 403 200 403 403 403 403 200 403 403"),
    "api-dashboard-mean-weekly-cost": ("GET", [], "401 403 200 403 200 403 403 403 403 200 403 403"),
    "api-dashboard-who-pays": ("GET", [], "401 403 200 403 200 403 403 403 403 200 403 403"),
    "api-dashboard-placements-by-client-group": ("GET", [], "401 403 200 403 200 403 403 403 403 200 403 403"),
    "api-dashboard-rating-mix": ("GET", [], "401 403 200 403 200 403 403 403 403 200 403 403"),
    "api-dashboard-timeliness": ("GET", [], "401 403 200 403 200 403 403 403 403 200 403 403"),
    "api-dps-agreements": ("GET", [], "200 200 200 200 200 200 200 200 200 200 200 200"),
    "dps_register": ("GET", [], "200 200 200 200 200 200 200 200 200 200 200 200"),
    "lots:dps": ("GET", [], "in  200 200 200 200 403 403 in  in  in  in  in"),
    "lots:dps_extend": ("GET", ['dps_option'], "in  403 200 403 404 403 403 in  in  in  in  in"),
    "providers:sign_up": ("GET", [], "200 200 200 200 200 200 200 200 200 200 200 200"),
    "providers:sign_up_sent": ("GET", [], "200 200 200 200 200 200 200 200 200 200 200 200"),
    "providers:sign_up_confirm": ("GET", ['MQ', 'bad-token'], "200 200 200 200 200 200 200 200 200 200 200 200"),
    "providers:home_documents": ("GET", ['home'], "in  403 403 403 403 200 404 in  in  in  in  in"),
    "providers:document_download": ("GET", ['document'], "in  403 200 403 404 200 404 in  in  in  in  in"),
    "providers:questionnaire": ("GET", [], "in  403 200 403 200 403 403 in  in  in  in  in"),
    "providers:question_retire": ("POST", ['selection_question'], "in  403 302 403 404 403 403 in  in  in  in  in"),
    "providers:document_requirements": ("GET", [], "in  403 200 403 200 403 403 in  in  in  in  in"),
    "api-docs": ("GET", [], "200 200 200 200 200 200 200 200 200 200 200 200"),
    "api-home-closures": ("GET", [], "401 200 200 200 200 403 403 200 403 403 403 403"),
    "closures:closure_list": ("GET", [], "in  200 200 200 200 403 403 in  in  in  in  in"),
    "closures:closure_create": ("GET", [], "in  403 200 403 200 403 403 in  in  in  in  in"),
    "closures:closure_detail": ("GET", ['home_closure'], "in  200 200 404 404 403 403 in  in  in  in  in"),
    "closures:closure_requests_raise": ("POST", ['home_closure'], "in  -   403 404 403 403 403 in  in  in  in  in"),
    "closures:contract_end": (
        "GET", ['home_closure', 'closure_contract'], "in  403 200 403 404 403 403 in  in  in  in  in"
    ),
    "closures:move_update": ("GET", ['move'], "in  200 200 404 404 403 403 in  in  in  in  in"),
    "closures:hand_backs": ("GET", [], "in  403 403 403 403 200 200 in  in  in  in  in"),
    "closures:off_dps_create": ("GET", ['request'], "in  200 403 404 403 403 403 in  in  in  in  in"),
    "closures:hand_back_placement": ("GET", [], "in  403 403 403 403 200 200 in  in  in  in  in"),
    "closures:hand_back_contract": ("GET", [], "in  403 403 403 403 200 200 in  in  in  in  in"),
    "api-invitations": ("GET", [], "401 403 403 403 403 200 200 403 403 403 403 200"),
    "api-lots": ("GET", [], "401 200 200 200 200 403 403 200 403 403 403 403"),
    "api-ocds-releases": ("GET", [], "200 200 200 200 200 200 200 200 200 200 200 200"),
    "api-payment-schedules": ("GET", [], "401 200 200 200 200 200 200 200 403 403 200 403"),
    "api-placement-assessment-outcome": (
        "POST", ['placement'], "401 400 403 404 403 403 403 403 400 403 403 403"
    ),
    "api-fnc-rates": ("GET", [], "401 200 200 200 200 200 200 200 403 403 200 403"),
    "api-placement-funding": ("GET", ['placement'], "401 200 200 404 404 200 404 200 403 403 200 403"),
    "api-placement-absences": ("GET", ['placement'], "401 200 200 404 404 200 404 200 403 403 200 403"),
    "api-placement-absence-end": (
        "POST", ['placement', 'absence'], "401 400 400 404 404 403 403 403 403 403 403 403"
    ),
    "api-placement-death": ("POST", ['placement'], "401 400 400 404 404 403 403 403 403 403 403 403"),
    "api-placement-outcome-payments": ("GET", ['placement'], "401 200 200 404 404 200 404 200 403 403 200 403"),
    "api-top-up-agreements": ("POST", ['request'], "401 400 403 404 403 403 403 403 400 403 403 403"),
    "api-placement-request": ("GET", ['request'], "401 200 200 404 404 403 403 200 403 403 403 403"),
    "api-placement-request-block-offer-accept": (
        "POST", ['request'], "401 400 403 404 403 403 403 403 400 403 403 403"
    ),
    "api-placement-request-block-offer-decline": (
        "POST", ['request'], "401 400 403 404 403 403 403 403 400 403 403 403"
    ),
    "api-placement-request-publish": ("POST", ['request'], "401 409 403 404 404 403 403 403 409 403 403 403"),
    "api-placement-requests": ("GET", [], "401 200 200 200 200 403 403 200 403 403 403 403"),
    "api-referral": ("GET", ['referral'], "401 403 403 403 403 403 403 403 403 403 403 403"),
    "api-referrals": ("GET", [], "401 403 403 403 403 403 403 403 403 403 403 403"),
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
    "contracts:absence_new": ("GET", ['placement'], "in  200 200 404 404 403 403 in  in  in  in  in"),
    "contracts:absence_end": ("GET", ['placement', 'absence'], "in  200 200 404 404 403 403 in  in  in  in  in"),
    "contracts:death_new": ("GET", ['placement'], "in  200 200 404 404 403 403 in  in  in  in  in"),
    "contracts:funding_change": ("GET", ['placement'], "in  200 200 404 404 403 403 in  in  in  in  in"),
    "contracts:agreement_pdf": ("GET", ['agreement'], "in  200 200 404 404 200 404 in  in  in  in  in"),
    "contracts:agreements": ("GET", [], "in  200 200 200 200 200 200 in  in  in  in  in"),
    "contracts:fee_change": ("GET", ['agreement'], "in  200 200 404 404 403 403 in  in  in  in  in"),
    "contracts:top_up_stop": ("GET", ['agreement'], "in  200 200 404 404 403 403 in  in  in  in  in"),
    "contracts:top_up_agreement": ("GET", ['request'], "in  200 403 404 403 403 403 in  in  in  in  in"),
    "contracts:payment_rules": ("GET", [], "in  403 200 403 200 403 403 in  in  in  in  in"),
    "contracts:fnc_rates": ("GET", [], "in  403 200 403 200 403 403 in  in  in  in  in"),
    "contracts:outcome_rules": ("GET", [], "in  200 200 200 200 403 403 in  in  in  in  in"),
    "contracts:outcome_rule_new": ("GET", [], "in  403 200 403 200 403 403 in  in  in  in  in"),
    "contracts:payment_schedule": ("GET", [], "in  200 200 200 200 200 200 in  in  in  in  in"),
    "contracts:placement_end": ("GET", ['agreement'], "in  200 200 404 404 403 403 in  in  in  in  in"),
    "contracts:uplift_apply": ("POST", ['uplift'], "in  403 -   403 404 403 403 in  in  in  in  in"),
    "contracts:uplift_detail": ("GET", ['uplift'], "in  200 200 404 404 403 403 in  in  in  in  in"),
    "contracts:uplift_new": ("GET", [], "in  403 200 403 200 403 403 in  in  in  in  in"),
    "contracts:uplifts": ("GET", [], "in  200 200 200 200 403 403 in  in  in  in  in"),
    "dashboards:dashboard": ("GET", ['timeliness'], "in  403 200 403 200 403 403 in  in  in  in  in"),
    "dashboards:index": ("GET", [], "in  200 200 200 200 403 403 in  in  in  in  in"),
    "healthz": ("GET", [], "200 200 200 200 200 200 200 200 200 200 200 200"),
    "health_live": ("GET", [], "200 200 200 200 200 200 200 200 200 200 200 200"),
    "health_ready": ("GET", [], "200 200 200 200 200 200 200 200 200 200 200 200"),
    # Open to the monitoring addresses (the test client's 127.0.0.1), whoever signs in; see test_operations.py.
    "metrics": ("GET", [], "200 200 200 200 200 200 200 200 200 200 200 200"),
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
    "integrations:webhook_rotate": ("GET", ['webhook'], "in  403 200 403 404 404 404 in  in  in  in  in"),
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
    "placements:referral_create": ("GET", [], "in  403 403 403 403 403 403 in  in  in  in  in"),
    "placements:referral_detail": ("GET", ['referral'], "in  403 403 403 403 403 403 in  in  in  in  in"),
    "placements:referral_list": ("GET", [], "in  403 403 403 403 403 403 in  in  in  in  in"),
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
    "quality:home": ("GET", ['home'], "in  403 200 403 404 403 403 in  in  in  in  in"),
    "quality:visit_record": ("GET", ['home'], "in  403 200 403 404 403 403 in  in  in  in  in"),
    "quality:scoring_rules": ("GET", [], "in  403 200 403 200 403 403 in  in  in  in  in"),
    "quality:scoring_rule_edit": ("GET", [1], "in  403 200 403 200 403 403 in  in  in  in  in"),
    "api-quality-scoring-rules": ("GET", [], "401 200 200 200 200 403 403 200 403 403 403 403"),
    "api-quality-scoring-rule": ("GET", [1], "401 200 200 200 200 403 403 200 403 403 403 403"),
    "quality:plan": ("GET", ['home'], "in  403 200 403 404 403 403 in  in  in  in  in"),
    "quality:provider_plan": ("GET", ['home'], "in  403 403 403 403 200 404 in  in  in  in  in"),
    "quality:action_update": ("GET", ['improvement_action'], "in  403 200 403 404 200 404 in  in  in  in  in"),
    "api-care-home-improvement-actions": ("GET", ['home'], "401 200 200 404 404 200 404 200 403 403 200 403"),
    "api-improvement-action-progress": (
        "POST", ['improvement_action'], "401 403 400 403 404 400 404 403 403 403 403 403"
    ),
    "quality:provider_returns": ("GET", ['home'], "in  403 403 403 403 200 404 in  in  in  in  in"),
    "quality:body_returns": ("GET", [], "in  403 200 403 200 403 403 in  in  in  in  in"),
    "quality:return_detail": ("GET", ['provider_return'], "in  403 200 403 404 200 404 in  in  in  in  in"),
    "api-care-home-returns": ("GET", ['home'], "401 200 200 404 404 200 404 200 403 403 200 403"),
    "quality:return_measures": ("GET", [], "in  403 200 403 200 403 403 in  in  in  in  in"),
    "quality:return_measure_retire": ("POST", ['return_measure'], "in  403 302 403 404 403 403 in  in  in  in  in"),
    "api-return-measures": ("GET", [], "401 200 200 200 200 200 200 200 403 403 200 403"),
    "api-return-measure-retire": ("POST", ['return_measure_api'], "401 403 200 404 404 403 403 403 403 403 403 403"),
    "quality:concerns": ("GET", ['home'], "in  403 200 403 404 403 403 in  in  in  in  in"),
    "quality:concern": ("GET", ['concern'], "in  403 200 403 404 403 403 in  in  in  in  in"),
    "api-care-home-concerns": ("GET", ['home'], "401 200 200 404 404 403 403 200 403 403 403 403"),
    "quality:monitoring": ("GET", [], "in  403 200 403 200 403 403 in  in  in  in  in"),
    "quality:framework": ("GET", [], "in  403 200 403 200 403 403 in  in  in  in  in"),
    "quality:question_retire": ("POST", ['monitoring_question'], "in  403 302 403 404 403 403 in  in  in  in  in"),
    "api-monitoring-framework": ("GET", [], "401 200 200 200 200 403 403 200 403 403 403 403"),
    "api-care-home-monitoring-visits": ("GET", ['home'], "401 200 200 404 404 403 403 200 403 403 403 403"),
    "schema": ("GET", [], "200 200 200 200 200 200 200 200 200 200 200 200"),
    "logout": ("POST", [], "in  in  in  in  in  in  in  in  in  in  in  in"),
}
# fmt: on
QUERY = {"api-payment-schedules": "?period=2026-W15"}

# Hospitals' discharge teams, in a table of their own: a coordinator of hospital A (which refers to
# council A) and of hospital B, and hospital A's systems with the `referrals` scope and with `read`
# only. Every URL has a row; the paths and methods are MATRIX's.
HOSPITAL_ROLES = ["coordinator_a", "coordinator_b", "api_h_referrals", "api_h_read"]
# fmt: off
HOSPITAL_MATRIX = {
    "api-api-client-revoke": "403 403 403 403",
    "api-api-clients": "403 403 403 403",
    "api-block-contract": "403 403 403 403",
    "api-block-contract-rates": "403 403 403 403",
    "api-block-contracts": "403 403 403 403",
    "api-block-utilisation": "403 403 403 403",
    "api-care-home": "403 403 403 403",
    "api-care-home-vacancies": "403 403 403 403",
    "api-care-homes": "403 403 403 403",
    "api-dashboard-at-risk": "403 403 403 403",
    "api-dashboard-bids-per-tender": "403 403 403 403",
    "api-dashboard-block-bed-utilisation": "403 403 403 403",
    "api-dashboard-market": "403 403 403 403",
    "api-dashboard-market-position": "403 403 403 403",
    "api-dashboard-mean-weekly-cost": "403 403 403 403",
    "api-dashboard-who-pays": "403 403 403 403",
    "api-dashboard-placements-by-client-group": "403 403 403 403",
    "api-dashboard-rating-mix": "403 403 403 403",
    "api-dashboard-timeliness": "403 403 403 403",
    "api-docs": "200 200 200 200",
    "api-invitations": "403 403 403 403",
    "api-lots": "403 403 403 403",
    "api-ocds-releases": "200 200 200 200",
    "api-payment-schedules": "403 403 403 403",
    "api-placement-assessment-outcome": "403 403 403 403",
    "api-placement-request": "403 403 403 403",
    "api-placement-request-block-offer-accept": "403 403 403 403",
    "api-placement-request-block-offer-decline": "403 403 403 403",
    "api-placement-request-publish": "403 403 403 403",
    "api-placement-requests": "403 403 403 403",
    "api-referral": "200 404 200 403",
    "api-referrals": "200 200 200 403",
    "api-placements": "403 403 403 403",
    "api-service-agreement": "403 403 403 403",
    "api-service-agreement-pdf": "403 403 403 403",
    "api-service-agreements": "403 403 403 403",
    "api-tender": "403 403 403 403",
    "api-tender-award": "403 403 403 403",
    "api-tender-abnormal-price-confirm": "403 403 403 403",
    "api-tender-abnormal-prices": "403 403 403 403",
    "api-tender-award-status": "403 403 403 403",
    "api-tender-bid-bed-hold-confirm": "403 403 403 403",
    "api-tender-bid-challenge": "403 403 403 403",
    "api-tender-bid-outcome": "403 403 403 403",
    "api-tender-challenge-decision": "403 403 403 403",
    "api-tender-choice": "403 403 403 403",
    "api-tender-move-to-next-bid": "403 403 403 403",
    "api-tender-question-answer": "403 403 403 403",
    "api-tender-questions": "403 403 403 403",
    "api-tender-shortlists": "403 403 403 403",
    "api-tender-bid": "403 403 403 403",
    "api-tender-bids": "403 403 403 403",
    "api-tender-evaluation": "403 403 403 403",
    "api-webhook-deliveries": "403 403 403 403",
    "api-webhook-delivery": "403 403 403 403",
    "api-webhook-delivery-redeliver": "403 403 403 403",
    "api-webhook-subscription": "403 403 403 403",
    "api-webhook-subscription-rotate-secret": "403 403 403 403",
    "api-webhook-subscriptions": "403 403 403 403",
    "bidding:invitation_detail": "403 403 in  in",
    "bidding:invitation_list": "403 403 in  in",
    "bidding:invitation_withdraw": "403 403 in  in",
    "blockbeds:bed_detail": "403 403 in  in",
    "blockbeds:bed_live": "403 403 in  in",
    "blockbeds:bed_out_of_service": "403 403 in  in",
    "blockbeds:bed_return": "403 403 in  in",
    "blockbeds:contract_create": "403 403 in  in",
    "blockbeds:contract_detail": "403 403 in  in",
    "blockbeds:contract_edit": "403 403 in  in",
    "blockbeds:contract_rate_new": "403 403 in  in",
    "blockbeds:contract_list": "403 403 in  in",
    "blockbeds:occupancy_end": "403 403 in  in",
    "blockbeds:offer_decline": "403 403 in  in",
    "blockbeds:offer_fill": "403 403 in  in",
    "blockbeds:utilisation": "403 403 in  in",
    "broker_home": "403 403 in  in",
    "commissioner_home": "403 403 in  in",
    "contracts:agreement_accept": "403 403 in  in",
    "contracts:agreement_detail": "403 403 in  in",
    "contracts:placement_detail": "403 403 in  in",
    "contracts:absence_new": "403 403 in  in",
    "contracts:absence_end": "403 403 in  in",
    "contracts:death_new": "403 403 in  in",
    "contracts:funding_change": "403 403 in  in",
    "contracts:agreement_pdf": "403 403 in  in",
    "contracts:agreements": "403 403 in  in",
    "contracts:fee_change": "403 403 in  in",
    "contracts:payment_schedule": "403 403 in  in",
    "contracts:payment_rules": "403 403 in  in",
    "contracts:fnc_rates": "403 403 in  in",
    "contracts:outcome_rules": "403 403 in  in",
    "contracts:outcome_rule_new": "403 403 in  in",
    "contracts:placement_end": "403 403 in  in",
    "contracts:uplift_apply": "403 403 in  in",
    "contracts:uplift_detail": "403 403 in  in",
    "contracts:uplift_new": "403 403 in  in",
    "contracts:uplifts": "403 403 in  in",
    "dashboards:dashboard": "403 403 in  in",
    "dashboards:index": "403 403 in  in",
    "healthz": "200 200 200 200",
    "home": "302 302 in  in",
    "fairness:provider_award": "403 403 in  in",
    "fairness:provider_questions": "403 403 in  in",
    "fairness:shortlist": "404 404 404 404",
    "fairness:tender_fairness": "403 403 in  in",
    "integrations:api_client_create": "403 403 in  in",
    "integrations:api_client_revoke": "403 403 in  in",
    "integrations:api_clients": "403 403 in  in",
    "integrations:webhook_create": "403 403 in  in",
    "integrations:webhook_delivery": "403 403 in  in",
    "integrations:webhook_detail": "403 403 in  in",
    "integrations:webhook_disable": "403 403 in  in",
    "integrations:webhook_rotate": "403 403 in  in",
    "integrations:webhooks": "403 403 in  in",
    "login": "302 302 200 200",
    "password_reset": "200 200 200 200",
    "password_reset_complete": "200 200 200 200",
    "password_reset_confirm": "200 200 200 200",
    "password_reset_done": "200 200 200 200",
    "lots:rules": "403 403 in  in",
    "lots:rules_edit": "403 403 in  in",
    "lots:urgency_rules_edit": "403 403 in  in",
    "placements:assessment_outcome": "403 403 in  in",
    "placements:referral_create": "200 200 in  in",
    "placements:referral_detail": "200 404 in  in",
    "placements:referral_list": "200 200 in  in",
    "placements:request_award": "403 403 in  in",
    "placements:request_cancel": "403 403 in  in",
    "placements:request_create": "403 403 in  in",
    "placements:request_detail": "403 403 in  in",
    "placements:request_list": "403 403 in  in",
    "placements:request_publish": "403 403 in  in",
    "placements:request_retender": "403 403 in  in",
    "provider_home": "403 403 in  in",
    "providers:admission_reinstate": "403 403 in  in",
    "providers:admission_suspend": "403 403 in  in",
    "providers:application_decide": "403 403 in  in",
    "providers:application_queue": "403 403 in  in",
    "providers:care_home_search": "403 403 in  in",
    "providers:home_add": "403 403 in  in",
    "providers:home_apply": "403 403 in  in",
    "providers:home_detail": "403 403 in  in",
    "providers:home_vacancies": "403 403 in  in",
    "providers:home_bed_vacancies": "403 403 in  in",
    "providers:home_bed_vacancies_confirm": "403 403 in  in",
    "providers:home_closures": "403 403 in  in",
    "providers:closure_lift": "403 403 in  in",
    "providers:embargoes": "403 403 in  in",
    "providers:members": "403 403 in  in",
    "providers:my_applications": "403 403 in  in",
    "providers:my_homes": "403 403 in  in",
    "providers:provider_invite": "403 403 in  in",
    "providers:suspensions": "403 403 in  in",
    "providers:welcome": "200 200 200 200",
    "providers:windows": "403 403 in  in",
    "quality:ratings": "403 403 in  in",
    "quality:home": "403 403 in  in",
    "quality:visit_record": "403 403 in  in",
    "quality:scoring_rules": "403 403 in  in",
    "quality:scoring_rule_edit": "403 403 in  in",
    "api-quality-scoring-rules": "403 403 403 403",
    "api-quality-scoring-rule": "403 403 403 403",
    "quality:plan": "403 403 in  in",
    "quality:provider_plan": "403 403 in  in",
    "quality:action_update": "403 403 in  in",
    "api-care-home-improvement-actions": "403 403 403 403",
    "api-improvement-action-progress": "403 403 403 403",
    "quality:provider_returns": "403 403 in  in",
    "quality:body_returns": "403 403 in  in",
    "quality:return_detail": "403 403 in  in",
    "api-care-home-returns": "403 403 403 403",
    "quality:return_measures": "403 403 in  in",
    "quality:return_measure_retire": "403 403 in  in",
    "api-return-measures": "403 403 403 403",
    "api-return-measure-retire": "403 403 403 403",
    "quality:concerns": "403 403 in  in",
    "quality:concern": "403 403 in  in",
    "api-care-home-concerns": "403 403 403 403",
    "quality:monitoring": "403 403 in  in",
    "quality:framework": "403 403 in  in",
    "quality:question_retire": "403 403 in  in",
    "api-monitoring-framework": "403 403 403 403",
    "api-care-home-monitoring-visits": "403 403 403 403",
    "schema": "200 200 200 200",
    "api-care-home-bed-vacancies": "403 403 403 403",
    "api-care-home-bed-vacancies-confirm": "403 403 403 403",
    "api-care-home-admission-closures": "403 403 403 403",
    "api-admission-closure-lift": "403 403 403 403",
    "api-bed-vacancies": "200 200 403 200",
    "api-dashboard-discharge": "403 403 403 403",
    "providers:bed_vacancy_search": "200 200 in  in",
    "api-dps-agreements": "200 200 200 200",
    "api-home-closures": "403 403 403 403",
    "closures:closure_list": "403 403 in  in",
    "closures:closure_create": "403 403 in  in",
    "closures:closure_detail": "403 403 in  in",
    "closures:closure_requests_raise": "403 403 in  in",
    "closures:contract_end": "403 403 in  in",
    "closures:move_update": "403 403 in  in",
    "closures:hand_backs": "403 403 in  in",
    "closures:off_dps_create": "403 403 in  in",
    "closures:hand_back_placement": "403 403 in  in",
    "closures:hand_back_contract": "403 403 in  in",
    "api-fnc-rates": "403 403 403 403",
    "api-placement-funding": "403 403 403 403",
    "api-placement-absences": "403 403 403 403",
    "api-placement-absence-end": "403 403 403 403",
    "api-placement-death": "403 403 403 403",
    "api-placement-outcome-payments": "403 403 403 403",
    "api-top-up-agreements": "403 403 403 403",
    "contracts:top_up_agreement": "403 403 in  in",
    "contracts:top_up_stop": "403 403 in  in",
    "dps_register": "200 200 200 200",
    "health_live": "200 200 200 200",
    "health_ready": "200 200 200 200",
    "lots:dps": "403 403 in  in",
    "lots:dps_extend": "403 403 in  in",
    "metrics": "200 200 200 200",
    "providers:document_download": "403 403 in  in",
    "providers:document_requirements": "403 403 in  in",
    "providers:home_documents": "403 403 in  in",
    "providers:question_retire": "403 403 in  in",
    "providers:questionnaire": "403 403 in  in",
    "providers:sign_up": "200 200 200 200",
    "providers:sign_up_confirm": "200 200 200 200",
    "providers:sign_up_sent": "200 200 200 200",
    "logout": "in  in  in  in",
}
# fmt: on
FORM_TAG = re.compile(rb"<form\b[^>]*>")


def test_the_matrix_has_a_row_for_every_url_pattern():
    assert url_names() == set(MATRIX), "Add a row to MATRIX for each new URL (and remove rows of removed ones)."


def wrong_answers_and_leaks(world, callers, roles, rows) -> tuple[list, list, set]:
    """Ask every URL as each role in `roles`; `rows` maps each URL name to that many answers."""
    wrong, leaks, validating = [], [], set()
    for name, cells in rows.items():
        method, args, _ = MATRIX[name]
        path = reverse(name, args=[world.ids.get(arg, arg) for arg in args]) + QUERY.get(name, "")
        for role, expected in zip(roles, cells.split(), strict=True):
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
                    leaks.append(f"{method} {path} as {role} shows council/provider/hospital B's {kind}")
    return wrong, leaks, validating


@pytest.mark.django_db
def test_every_role_gets_the_expected_answer_and_nothing_of_another_organisation():
    world = build_world()
    rows = {name: cells for name, (_, _, cells) in MATRIX.items()}
    wrong, leaks, validating = wrong_answers_and_leaks(world, clients(world), ROLES, rows)
    assert not leaks, "\n".join(leaks)
    assert not wrong, "\n".join(wrong)
    assert not validating, "Forms without novalidate:\n" + "\n".join(sorted(validating))


def test_the_hospital_matrix_has_a_row_for_every_url_pattern():
    assert url_names() == set(HOSPITAL_MATRIX), "Add a row to HOSPITAL_MATRIX for each new URL too."


@pytest.mark.django_db
def test_hospitals_get_the_expected_answer_and_never_amounts_or_another_hospitals_referrals():
    world = build_world()
    wrong, leaks, validating = wrong_answers_and_leaks(world, clients(world), HOSPITAL_ROLES, HOSPITAL_MATRIX)
    assert not leaks, "\n".join(leaks)
    assert not wrong, "\n".join(wrong)
    assert not validating, "Forms without novalidate:\n" + "\n".join(sorted(validating))
