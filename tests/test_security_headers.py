"""Security headers on every response: a Content Security Policy under which a script runs only
from this site or with the response's own nonce, a Permissions-Policy that switches off the
browser features the service never uses, and an opener policy that keeps its windows apart.
In the browser, the policy blocks an injected script and the API documentation still works."""

import re

import pytest
from django.test import Client
from django.urls import reverse
from playwright.sync_api import expect

from .browser import page_as
from .factories import UserFactory
from .gates_world import build_world
from .test_access_matrix import MATRIX, QUERY, ROLES, body_of, clients

NONCE = re.compile(r"^'nonce-([A-Za-z0-9+/]{16,}={0,2})'$")
# Opening <script> and <style> tags, and the attributes that would run or style inline.
INLINE_TAG = re.compile(rb"<(script|style)\b([^>]*)>", re.IGNORECASE)
SRC = re.compile(rb"\ssrc=", re.IGNORECASE)
NONCE_ATTRIBUTE = re.compile(rb'\snonce="([^"]*)"', re.IGNORECASE)
DATA_BLOCK = re.compile(rb'\stype="application/(?:ld\+)?json"', re.IGNORECASE)
EVENT_HANDLER = re.compile(rb"<[a-z][^>]*\son[a-z]+\s*=", re.IGNORECASE)
STYLE_ATTRIBUTE = re.compile(rb"<[a-z][^>]*\sstyle\s*=", re.IGNORECASE)
DENIED_FEATURES = ["camera", "microphone", "geolocation", "payment", "usb", "serial", "bluetooth", "hid", "midi"]


def directives(response) -> dict[str, list[str]]:
    header = response.get("Content-Security-Policy")
    assert header, f"{response.request['PATH_INFO']} has no Content-Security-Policy"
    parsed = {}
    for part in header.split(";"):
        name, *values = part.split()
        parsed[name] = values
    return parsed


def nonce_of(policy: dict[str, list[str]]) -> str | None:
    nonces = [match.group(1) for value in policy["script-src"] if (match := NONCE.match(value))]
    assert len(nonces) <= 1
    return nonces[0] if nonces else None


def problems_with(response) -> list[str]:
    """What is wrong with the security headers of one response, and with its inline code if HTML."""
    problems = []
    policy = directives(response)
    script_src, style_src = policy.get("script-src", []), policy.get("style-src", [])
    if not script_src:
        problems.append("no script-src")
    for source in ("'unsafe-inline'", "'unsafe-eval'", "*", "data:", "http:", "https:"):
        if source in script_src:
            problems.append(f"script-src allows {source}")
    if "'unsafe-inline'" in style_src:
        problems.append("style-src allows 'unsafe-inline'")
    if policy.get("object-src") != ["'none'"] or policy.get("frame-ancestors") != ["'none'"]:
        problems.append("object-src or frame-ancestors is not 'none'")
    permissions = response.get("Permissions-Policy", "")
    problems.extend(f"{feature} not denied" for feature in DENIED_FEATURES if f"{feature}=()" not in permissions)
    if response.get("Cross-Origin-Opener-Policy") != "same-origin":
        problems.append(f"opener policy is {response.get('Cross-Origin-Opener-Policy')!r}")

    if not response.get("Content-Type", "").startswith("text/html"):
        return problems
    body = body_of(response)
    nonce = nonce_of(policy)
    for kind, attributes in INLINE_TAG.findall(body):
        if kind.lower() == b"script" and (SRC.search(attributes) or DATA_BLOCK.search(attributes)):
            continue
        given = NONCE_ATTRIBUTE.search(attributes)
        if nonce is None or given is None or given.group(1).decode() != nonce:
            problems.append(f"an inline <{kind.decode()}> without the response's nonce")
    if EVENT_HANDLER.search(body):
        problems.append("an inline event handler")
    if STYLE_ATTRIBUTE.search(body):
        problems.append("a style attribute")
    if b"javascript:" in body.lower():
        problems.append("a javascript: URL")
    return problems


@pytest.mark.django_db
def test_every_page_and_endpoint_of_the_access_matrix_sends_the_security_headers():
    world = build_world()
    callers = clients(world)
    wrong, html_pages = [], 0
    for name, (method, args, cells) in MATRIX.items():
        if method != "GET":
            continue
        path = reverse(name, args=[world.ids.get(arg, arg) for arg in args]) + QUERY.get(name, "")
        for role, expected in zip(ROLES, cells.split(), strict=True):
            if expected == "-":
                continue
            response = callers[role].get(path)
            html_pages += response.get("Content-Type", "").startswith("text/html")
            wrong.extend(f"GET {path} as {role}: {problem}" for problem in problems_with(response))
    assert html_pages > 100, "The matrix should exercise the HTML pages too."
    assert not wrong, "\n".join(wrong)


@pytest.mark.django_db
def test_error_pages_static_files_and_the_admin_send_the_security_headers(broker_a):
    client = Client()
    client.force_login(broker_a)
    staff = Client()
    staff.force_login(UserFactory(organisation=None, role="", is_staff=True, is_superuser=True))
    responses = [
        client.get("/no-such-page/"),
        client.get("/api/v1/no-such-endpoint/"),
        staff.get(reverse("admin:index")),
        client.post(reverse("login"), {"username": "nobody@example.org", "password": "wrong"}),
    ]
    assert [response.status_code for response in responses] == [404, 404, 200, 302]
    wrong = [
        f"{response.request['PATH_INFO']}: {problem}" for response in responses for problem in problems_with(response)
    ]
    assert not wrong, "\n".join(wrong)


@pytest.mark.django_db
def test_each_page_gets_a_fresh_nonce_that_its_inline_scripts_carry(broker_a):
    signed_in = Client()
    signed_in.force_login(broker_a)
    visits = [(signed_in, reverse("placements:request_list"))] * 3 + [
        (Client(), reverse("login")),
        (signed_in, reverse("api-docs")),
    ]
    nonces = []
    for client, path in visits:
        response = client.get(path)
        assert response.status_code == 200
        nonce = nonce_of(directives(response))
        assert nonce is not None, f"{path} has no nonce in script-src"
        tags = INLINE_TAG.findall(body_of(response))
        assert tags, f"{path} has no script to check"
        carried = {match.group(1).decode() for _, attributes in tags if (match := NONCE_ATTRIBUTE.search(attributes))}
        assert carried == {nonce}
        nonces.append(nonce)
    assert len(set(nonces)) == len(nonces), "A nonce was sent twice."


@pytest.mark.django_db
def test_the_api_documentation_keeps_its_inline_code_under_the_nonce():
    response = Client().get(reverse("api-docs"))
    assert response.status_code == 200
    assert problems_with(response) == []
    nonce = nonce_of(directives(response))
    assert f"'nonce-{nonce}'" in directives(response)["style-src"]
    body = body_of(response).decode()
    assert "<style" not in body, "the page's styles come from stylesheets on this site"
    assert f'<script nonce="{nonce}">' in body


INJECTED = (
    b"<script>window.injectedScriptRan = true;</script>"
    b'<button type="button" id="injected-button" onclick="window.injectedHandlerRan = true">Injected</button>'
    b'<p id="injected-style" style="display: none">Injected style</p>'
)


@pytest.mark.browser
def test_an_injected_inline_script_without_the_nonce_is_blocked(live_server, browser, browser_problems, broker_a):
    page = page_as(browser, live_server, broker_a)

    def inject(route):
        response = route.fetch()
        body = response.body().replace(b"</main>", INJECTED + b"</main>", 1)
        assert INJECTED in body
        route.fulfill(response=response, body=body)

    url = f"{live_server.url}{reverse('placements:request_list')}"
    page.route(url, inject)
    page.goto(url)
    page.click("#injected-button")

    # The page's own inline scripts carry the nonce and ran: GOV.UK Frontend started.
    expect(page.locator("body")).to_have_class(re.compile(r"\bjs-enabled\b"))
    expect(page.locator(".govuk-skip-link")).to_have_attribute("data-govuk-skip-link-init", "")
    assert page.evaluate("window.injectedScriptRan") is None
    assert page.evaluate("window.injectedHandlerRan") is None
    expect(page.locator("#injected-style")).to_be_visible()
    page.context.close()

    seen = browser_problems.take()
    violations = [problem for problem in seen if "Content Security Policy violation" in problem]
    assert any("script-src-elem blocked inline" in problem for problem in violations), seen
    assert any("script-src-attr blocked inline" in problem for problem in violations), seen
    assert any("style-src-attr blocked inline" in problem for problem in violations), seen


@pytest.mark.browser
def test_the_api_documentation_works_under_the_policy(live_server, browser, broker_a):
    page = page_as(browser, live_server, broker_a)
    page.goto(f"{live_server.url}{reverse('api-docs')}")
    # Swagger UI draws once the whole schema has been generated and fetched: slow on a busy machine.
    expect(page.locator(".swagger-ui .info .title")).to_contain_text("Care home placements API", timeout=60000)
    operations = page.locator(".opblock")
    expect(operations.first).to_be_visible()
    assert operations.count() > 20
    operations.first.locator(".opblock-summary").click()
    expect(
        page.locator(".opblock.is-open .parameters-container, .opblock.is-open .opblock-description-wrapper").first
    ).to_be_visible()
    page.context.close()
