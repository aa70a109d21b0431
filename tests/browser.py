"""Playwright driving Debian's chromium: how it is launched, pages that share a Django
session with a user (the sign-in form has tests of its own), and the problems those pages
meet (console errors, uncaught exceptions, Content Security Policy violations), which fail
the test that met them (see the `browser_problems` fixture in conftest.py)."""

import os

from django.conf import settings
from django.test import Client

# Playwright's sync API runs an event loop in the test's thread; Django's ORM then needs this.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]


# Runs in every page before its own scripts: a blocked script, style or other resource is
# reported as a console error, so the problem list below sees it whatever Chromium logs itself.
REPORT_CSP_VIOLATIONS = """
document.addEventListener("securitypolicyviolation", (event) => {
  console.error(
    `Content Security Policy violation: ${event.effectiveDirective} blocked ` +
    `${event.blockedURI || "inline code"} in ${event.sourceFile || event.documentURI}:${event.lineNumber}`
  );
}, true);
"""


class PageProblems:
    """Console errors, uncaught exceptions and CSP violations in the pages of watched contexts."""

    def __init__(self):
        self.seen: list[str] = []

    def watch(self, context) -> None:
        context.add_init_script(script=REPORT_CSP_VIOLATIONS)
        context.on("console", self._console)
        context.on("weberror", self._uncaught)

    def take(self) -> list[str]:
        """The problems seen since the last call; the list starts again empty."""
        seen, self.seen = self.seen, []
        return seen

    def _console(self, message) -> None:
        if message.type != "error":
            return
        where = message.page.url if message.page is not None else "a page"
        source = message.location.get("url") or where
        if source == where and message.text.startswith("Failed to load resource"):
            # The page itself answered with an error status (a form's 400, a refused 403): the
            # test asked for it and checks it. A stylesheet, script or image that fails is a problem.
            return
        self.seen.append(f"console error on {where} ({source}): {message.text}")

    def _uncaught(self, web_error) -> None:
        where = web_error.page.url if web_error.page is not None else "a page"
        self.seen.append(f"uncaught exception on {where}: {web_error.error}")


class WatchedBrowser:
    """A browser whose every context reports its pages' problems to `problems`."""

    def __init__(self, browser, problems: PageProblems):
        self._browser = browser
        self.problems = problems

    def new_context(self, **options):
        context = self._browser.new_context(**options)
        self.problems.watch(context)
        return context

    def new_page(self, **options):
        page = self._browser.new_page(**options)
        self.problems.watch(page.context)
        return page

    def __getattr__(self, name):
        return getattr(self._browser, name)


def launch(playwright) -> WatchedBrowser:
    browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
    return WatchedBrowser(browser, PageProblems())


def share_session(context, live_server, user) -> None:
    """Sign `user` in for every page of this browser context."""
    client = Client()
    client.force_login(user)
    context.clear_cookies()
    context.add_cookies(
        [
            {
                "name": settings.SESSION_COOKIE_NAME,
                "value": client.cookies[settings.SESSION_COOKIE_NAME].value,
                "url": live_server.url,
            }
        ]
    )


def page_as(browser, live_server, user, **context_options):
    """A page in a fresh context, signed in as `user` (None: nobody signed in)."""
    context = browser.new_context(**context_options)
    if user is not None:
        share_session(context, live_server, user)
    return context.new_page()
