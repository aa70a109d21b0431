"""In a real browser (its own CSRF cookie and Origin): a commissioner subscribes a webhook, with a
field error first, copies the secret shown once, then makes a new secret after a confirmation."""

import pytest
from playwright.sync_api import expect

from integrations.models import WebhookSubscription

from .browser import page_as


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_a_commissioner_subscribes_a_webhook_and_makes_a_new_secret_in_a_browser(live_server, browser, commissioner_a):
    page = page_as(browser, live_server, commissioner_a)
    page.goto(f"{live_server.url}/integrations/webhooks/new/")

    page.get_by_label("Receiving address (URL)").fill("https://case.example.org/hooks")
    page.get_by_role("button", name="Subscribe").click()
    expect(page.locator(".govuk-error-summary")).to_be_visible()
    assert not WebhookSubscription.objects.exists()

    page.get_by_label("Tender awarded").check()
    page.get_by_role("button", name="Subscribe").click()
    expect(page.get_by_role("heading", name="Webhook added")).to_be_visible()
    subscription = WebhookSubscription.objects.get()
    expect(page.locator("#webhook-secret")).to_have_text(subscription.secret)
    first = subscription.secret

    page.get_by_role("link", name="View the webhook").click()
    expect(page.locator("#webhook-secret")).to_have_count(0)
    page.get_by_role("link", name="Make a new signing secret").click()
    expect(page.get_by_role("heading", name="Make a new signing secret?")).to_be_visible()
    page.get_by_role("button", name="Make a new secret").click()

    expect(page.get_by_role("heading", name="New signing secret made")).to_be_visible()
    subscription.refresh_from_db()
    assert subscription.secret != first and subscription.previous_secret == first
    expect(page.locator("#webhook-secret")).to_have_text(subscription.secret)
    page.reload()
    expect(page.locator("#webhook-secret")).to_have_count(0)
    page.context.close()
