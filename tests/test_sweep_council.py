"""The page sweep for the councils' people (brokers and commissioners of both councils) and the
error pages; see tests/sweep.py. Every page at 1280 px and 375 px: no WCAG 2.2 A/AA violation, no
sideways scrolling outside a table region, no asset that fails to load."""

import pytest

from .gates_world import build_world
from .sweep import NOT_PAGES, PAGE_ROLES, error_page_visits, matrix_paths, page_visits, session_cookies, sweep
from .test_access_matrix import MATRIX, ROLES
from .test_sweep_provider import SWEPT_ROLES as PROVIDER_SIDE_ROLES

SWEPT_ROLES = ["broker_a", "commissioner_a", "broker_b", "commissioner_b"]


@pytest.mark.django_db
def test_the_sweep_covers_every_page_of_every_role():
    """Every GET pattern a page role may open (200 in the matrix) is visited for that role."""
    assert sorted(SWEPT_ROLES + PROVIDER_SIDE_ROLES) == sorted(PAGE_ROLES)
    assert set(PAGE_ROLES) == {role for role in ROLES if not role.startswith("api_")}
    world = build_world()
    swept = {(name, role) for role in PAGE_ROLES for name, _ in matrix_paths(role, world)}
    expected = {
        (name, role)
        for name, (method, _args, cells) in MATRIX.items()
        if method == "GET" and not name.startswith("api-") and name not in NOT_PAGES
        for role, cell in zip(ROLES, cells.split(), strict=True)
        if role in PAGE_ROLES and cell == "200"
    }
    assert expected <= swept
    assert {visit.width for visit in page_visits(PAGE_ROLES, world)} == {1280, 375, 320}


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_council_pages_pass_axe_and_fit_a_phone(live_server):
    world = build_world()
    visits = page_visits(SWEPT_ROLES, world) + error_page_visits()
    assert len(visits) > 100
    report = sweep(live_server.url, visits, session_cookies(world, [*SWEPT_ROLES, "anon"]))
    assert not report, f"Pages that failed the sweep:\n{report}"
