"""The back office is signed in to on the service's one sign-in page, throttled and audited: Django's
own admin sign-in form is not served, so it can neither try passwords unthrottled nor tell a person
whose password is right that their account is not staff."""

import re

import pytest
from django.test import Client
from playwright.sync_api import expect

from core.models import AuditEvent

from .factories import TEST_PASSWORD, UserFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fresh_cache")]


@pytest.fixture
def staff():
    return UserFactory(organisation=None, role="", is_staff=True, is_superuser=True, email="admin@a.example")


def test_the_admin_sends_people_to_the_sign_in_page_and_back():
    client = Client()
    index = client.get("/admin/")
    assert index.status_code == 302 and index["Location"] == "/admin/login/?next=/admin/"

    login = client.get(index["Location"])

    assert login.status_code == 302
    assert login["Location"] == "/sign-in/?next=%2Fadmin%2F"


def test_a_password_posted_to_the_admin_is_never_checked(broker_a):
    answer = Client().post("/admin/login/", {"username": broker_a.email, "password": TEST_PASSWORD})

    assert answer.status_code == 302 and answer["Location"].startswith("/sign-in/")
    assert "_auth_user_id" not in answer.client.session
    assert not AuditEvent.objects.filter(verb__startswith="organisations.user.sign").exists()


def test_failures_on_the_way_to_the_admin_count_against_the_account(staff, settings):
    settings.LOGIN_FAILURE_LIMIT = 2
    client = Client()
    for _ in range(2):
        client.post("/sign-in/?next=/admin/", {"username": staff.email, "password": "wrong"})

    refused = client.post("/sign-in/?next=/admin/", {"username": staff.email, "password": TEST_PASSWORD})

    assert refused.status_code == 200 and b"Try again in" in refused.content
    assert client.get("/admin/").status_code == 302


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_staff_reach_the_admin_through_the_sign_in_page_in_a_browser(live_server, browser_page, staff):
    page = browser_page
    page.goto(f"{live_server.url}/admin/placements/")
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()

    page.locator("#id_username").fill(staff.email)
    page.locator("#id_password").fill(TEST_PASSWORD)
    page.get_by_role("button", name="Sign in").click()

    expect(page).to_have_url(re.compile(r"/admin/placements/$"))
    expect(page.locator("#site-name, h1").first).to_be_visible()
    assert AuditEvent.objects.filter(verb="organisations.user.signed_in", target_id=str(staff.pk)).exists()
