"""The page sweep for the providers, the signed-out visitor (the person's shortlist included), the
API documentation and the back office; see tests/sweep.py. The pages people open on phones are
also swept at 320 px with their forms showing."""

import pytest

from .gates_world import build_world
from .sweep import (
    admin_visits,
    api_docs_visits,
    back_office_user,
    build_phone_world,
    page_visits,
    phone_world_visits,
    session_cookies,
    sweep,
)

SWEPT_ROLES = ["anon", "provider_a", "provider_b"]


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_provider_and_public_pages_pass_axe_and_fit_a_phone(live_server):
    world = build_world()
    phone_pages = build_phone_world(world)
    visits = page_visits(SWEPT_ROLES, world) + phone_world_visits(phone_pages, SWEPT_ROLES)
    assert {visit.width for visit in visits} == {1280, 375, 320}
    report = sweep(live_server.url, visits, session_cookies(world, SWEPT_ROLES))
    assert not report, f"Pages that failed the sweep:\n{report}"


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_api_documentation_and_back_office_pass_axe(live_server):
    world = build_world()
    back_office = back_office_user()
    visits = api_docs_visits() + admin_visits(world, back_office)
    assert len([visit for visit in visits if visit.name.endswith("_changelist")]) >= 5
    cookies = session_cookies(world, ["anon", "back_office"], {"back_office": back_office})
    report = sweep(live_server.url, visits, cookies, product=set())
    assert not report, f"Pages that failed the sweep:\n{report}"
