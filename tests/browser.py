"""Playwright driving Debian's chromium: how it is launched, and pages that share a Django
session with a user (the sign-in form has tests of its own)."""

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


def launch(playwright):
    return playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)


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
