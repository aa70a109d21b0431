"""axe-core against WCAG 2.2 A and AA for the browser tests that check a page in the middle of a
journey. Every page of every role, at a desktop and a phone width, is swept by tests/sweep.py
(tests/test_sweep_council.py and tests/test_sweep_provider.py)."""

from axe_playwright_python.sync_playwright import Axe

from .sweep import AXE_OPTIONS


def wcag_violations(page) -> list[str]:
    results = Axe().run(page, options=AXE_OPTIONS)
    return [
        f"{violation['id']} ({violation['impact']}): {[node['target'] for node in violation['nodes']][:3]}"
        for violation in results.response["violations"]
    ]
