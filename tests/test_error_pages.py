"""The demo runs with DEBUG on, yet unknown addresses and errors show the service's own pages,
never Django's technical pages that list every URL pattern or a traceback."""

import re
from pathlib import Path

import pytest
from django.test import RequestFactory, override_settings

from core.error_pages import StyledErrorPagesMiddleware

pytestmark = pytest.mark.django_db
DEMO_SCRIPT = Path(__file__).resolve().parent.parent / "scripts" / "demo.sh"


def _demo_default(name: str) -> bool:
    """The value scripts/demo.sh gives a setting when the environment does not."""
    match = re.search(rf'^export {name}="\$\{{{name}:-(\w+)\}}"$', DEMO_SCRIPT.read_text(), re.M)
    assert match, f"scripts/demo.sh does not set {name}"
    return match.group(1) == "true"


@pytest.fixture
def demo_settings():
    with override_settings(DEBUG=_demo_default("DEBUG"), TECHNICAL_ERROR_PAGES=_demo_default("TECHNICAL_ERROR_PAGES")):
        yield


def test_the_demo_runs_with_debug_on_and_technical_pages_off():
    assert _demo_default("DEBUG") is True
    assert _demo_default("TECHNICAL_ERROR_PAGES") is False


def test_an_unknown_address_in_the_demo_answers_the_styled_404(client, demo_settings):
    response = client.get("/no-such-page/")
    html = response.content.decode()
    assert response.status_code == 404
    assert '<h1 class="govuk-heading-l">Page not found</h1>' in html
    assert "URLconf" not in html and "admin/" not in html


def test_with_technical_pages_on_django_lists_the_patterns(client):
    # The control: what the demo showed before, and what a developer still gets with DEBUG alone.
    with override_settings(DEBUG=True, TECHNICAL_ERROR_PAGES=True):
        html = client.get("/no-such-page/").content.decode()
    assert "URLconf" in html


def test_a_view_not_found_in_the_demo_answers_the_styled_404(as_user, broker_a, demo_settings):
    response = as_user(broker_a).get("/agreements/987654/")
    assert response.status_code == 404
    assert "Page not found" in response.content.decode() and "Raised by" not in response.content.decode()


def test_a_missing_trailing_slash_still_redirects_and_the_api_still_answers_problem_details(client, demo_settings):
    assert client.get("/agreements").status_code == 301
    response = client.get("/api/v1/no-such-thing/")
    assert response.status_code == 404 and response["Content-Type"].startswith("application/problem+json")


def test_an_error_in_the_demo_answers_the_styled_500(demo_settings, broker_a):
    request = RequestFactory().get("/agreements/")
    request.user = broker_a
    middleware = StyledErrorPagesMiddleware(lambda request: None)
    try:
        raise RuntimeError("boom")
    except RuntimeError as error:
        response = middleware.process_exception(request, error)
    html = response.content.decode()
    assert response.status_code == 500
    assert "Sorry, there is a problem with the service" in html and "boom" not in html and "Traceback" not in html
