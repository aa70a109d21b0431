"""In a real browser (its own CSRF cookie and Origin): a person who has forgotten their password asks
for a link from the sign-in page, with a field error first, sets a new password from the e-mail with
a field error first, and signs in with it; a network that asks too often is told to wait."""

import re

import pytest
from django.core import mail
from playwright.sync_api import expect

NEW_PASSWORD = "a-long-and-unusual-passphrase-2026"

pytestmark = pytest.mark.usefixtures("fresh_cache")


def ask_for_a_link(page, email: str) -> None:
    page.get_by_label("E-mail address").fill(email)
    page.get_by_role("button", name="Send the link").click()


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_a_person_resets_a_forgotten_password_in_a_browser_and_signs_in_with_it(live_server, browser_page, broker_a):
    page = browser_page
    page.goto(f"{live_server.url}/sign-in/")
    page.get_by_role("link", name="Forgotten your password?").click()
    expect(page.get_by_role("heading", name="Reset your password")).to_be_visible()

    ask_for_a_link(page, "broker-at-nowhere")
    expect(page.locator(".govuk-error-summary")).to_contain_text("Enter an e-mail address in the correct format")
    assert mail.outbox == []

    ask_for_a_link(page, broker_a.email)
    expect(page.get_by_role("heading", name="Check your e-mail")).to_be_visible()
    [message] = mail.outbox
    path = re.search(r"https?://\S+?(/password-reset/\S+/\S+/)", message.body).group(1)

    page.goto(f"{live_server.url}{path}")
    expect(page.get_by_role("heading", name="Set a new password")).to_be_visible()
    page.get_by_label("New password", exact=True).fill(NEW_PASSWORD)
    page.get_by_label("New password confirmation").fill(NEW_PASSWORD + "x")
    page.get_by_role("button", name="Set password").click()
    expect(page.locator(".govuk-error-summary")).to_be_visible()
    page.get_by_label("New password", exact=True).fill(NEW_PASSWORD)
    page.get_by_label("New password confirmation").fill(NEW_PASSWORD)
    page.get_by_role("button", name="Set password").click()
    expect(page.get_by_role("heading", name="Your password has been set")).to_be_visible()

    page.get_by_role("link", name="Sign in").click()
    page.locator("#id_username").fill(broker_a.email)
    page.locator("#id_password").fill(NEW_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(re.compile(r"/broker/"))


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_a_network_asking_for_too_many_links_is_told_to_wait_in_the_page(live_server, browser_page, settings):
    settings.PASSWORD_RESET_ADDRESS_LIMIT = 2
    page = browser_page
    for number in range(2):
        page.goto(f"{live_server.url}/password-reset/")
        ask_for_a_link(page, f"person{number}@example.org")
        expect(page.get_by_role("heading", name="Check your e-mail")).to_be_visible()

    page.goto(f"{live_server.url}/password-reset/")
    ask_for_a_link(page, "person3@example.org")

    summary = page.locator(".govuk-error-summary")
    expect(summary).to_contain_text("too many requests for a password reset from your network")
    expect(summary).to_contain_text("Try again in 1 hour")
