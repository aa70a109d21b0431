"""Links that set a password (a provider's invitation, a password reset) work once and expire."""

import re
import time

import pytest
from django.core import mail
from django.test import Client

from core.models import AuditEvent, Notification
from organisations.models import Role
from providers.services import provider_invite

from .factories import TEST_PASSWORD, UserFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fresh_cache")]

NEW_PASSWORD = "a-long-and-unusual-passphrase-2026"


def reset_link(email: str, settings) -> str:
    mail.outbox.clear()
    response = Client().post("/password-reset/", {"email": email})
    assert response.status_code == 302
    assert response["Location"] == "/password-reset/sent/"
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == [email]
    assert message.subject == "Reset your password"
    link = re.search(r"(\S+/password-reset/\S+/\S+/)", message.body).group(1)
    assert link.startswith(settings.SITE_URL.rstrip("/") + "/password-reset/")
    return link.removeprefix(settings.SITE_URL.rstrip("/"))


def set_password(path: str, password: str = NEW_PASSWORD):
    browser = Client()
    page = browser.get(path, follow=True)
    if b"new_password1" not in page.content:
        return page
    return browser.post(page.redirect_chain[-1][0], {"new_password1": password, "new_password2": password})


def test_the_sign_in_page_links_to_password_reset(client):
    assert b'href="/password-reset/"' in client.get("/sign-in/").content


def test_a_reset_link_sets_a_new_password_once_and_is_refused_the_second_time(broker_a, settings):
    path = reset_link(broker_a.email, settings)

    done = set_password(path)

    assert done.status_code == 302
    assert done["Location"] == "/password-reset/complete/"
    assert Client().login(email=broker_a.email, password=NEW_PASSWORD)
    assert not Client().login(email=broker_a.email, password=TEST_PASSWORD)
    assert AuditEvent.objects.filter(verb="organisations.user.password_reset", target_id=str(broker_a.pk)).exists()

    again = set_password(path, "another-unusual-passphrase-2027")

    assert again.status_code == 200
    assert b"The link has been used already or has expired." in again.content
    assert Client().login(email=broker_a.email, password=NEW_PASSWORD)


def test_a_reset_link_stops_working_when_it_expires(broker_a, settings):
    path = reset_link(broker_a.email, settings)
    settings.PASSWORD_RESET_TIMEOUT = 1
    time.sleep(2.1)

    response = set_password(path)

    assert b"The link has been used already or has expired." in response.content
    assert Client().login(email=broker_a.email, password=TEST_PASSWORD)


def test_signing_in_after_asking_for_a_link_cancels_it(broker_a, settings):
    path = reset_link(broker_a.email, settings)
    assert Client().post("/sign-in/", {"username": broker_a.email, "password": TEST_PASSWORD}).status_code == 302

    assert b"The link has been used already or has expired." in set_password(path).content


def test_an_invitation_link_stops_working_when_it_expires(commissioner_a, settings):
    invited = provider_invite(
        actor=commissioner_a, name="Lakeside Care", cqc_provider_id="1-555", email="owner@lakeside.example"
    )
    path = Notification.objects.get(recipient=invited, verb="providers.provider.invited").link
    assert path.startswith("/provider/welcome/")
    settings.PASSWORD_RESET_TIMEOUT = 1
    time.sleep(2.1)

    response = Client().get(path, follow=True)

    assert b"has been used or has expired" in response.content
    invited.refresh_from_db()
    assert not invited.has_usable_password()


def test_an_unknown_address_gets_the_same_answer_and_no_email(client):
    response = client.post("/password-reset/", {"email": "nobody@example.org"}, follow=True)

    assert response.status_code == 200
    assert b"If the address you entered has an account" in response.content
    assert mail.outbox == []


def test_an_api_clients_service_account_is_sent_no_link(council_a):
    account = UserFactory(organisation=council_a, role=Role.BROKER, email="system@a.example", is_service_account=True)

    Client().post("/password-reset/", {"email": account.email})

    assert mail.outbox == []


def test_a_new_password_clears_the_accounts_sign_in_lockout(broker_a, settings):
    settings.LOGIN_FAILURE_LIMIT = 2
    client = Client()
    for _ in range(2):
        client.post("/sign-in/", {"username": broker_a.email, "password": "wrong"})
    assert b"Try again" in client.post("/sign-in/", {"username": broker_a.email, "password": TEST_PASSWORD}).content

    set_password(reset_link(broker_a.email, settings))

    assert client.post("/sign-in/", {"username": broker_a.email, "password": NEW_PASSWORD}).status_code == 302


def test_an_empty_or_malformed_address_is_explained(client):
    empty = client.post("/password-reset/", {"email": ""})
    malformed = client.post("/password-reset/", {"email": "not-an-address"})

    assert b"Enter your e-mail address" in empty.content
    assert b"Enter an e-mail address in the correct format" in malformed.content


def test_an_address_is_sent_three_links_an_hour_and_then_the_same_answer_with_nothing_sent(broker_a, commissioner_a):
    office = Client(REMOTE_ADDR="203.0.113.9")
    answers = [office.post("/password-reset/", {"email": broker_a.email.upper()}) for _ in range(5)]

    assert [(a.status_code, a["Location"]) for a in answers] == [(302, "/password-reset/sent/")] * 5
    assert len(mail.outbox) == 3
    throttled = AuditEvent.objects.filter(verb="organisations.user.password_reset_throttled")
    assert [(e.target_id, e.detail["address"]) for e in throttled] == [(str(broker_a.pk), "203.0.113.9")] * 2
    # A colleague at the same address, and an address with no account, keep their own count.
    office.post("/password-reset/", {"email": commissioner_a.email})
    assert [m.to for m in mail.outbox[3:]] == [[commissioner_a.email]]
    for _ in range(4):
        unknown = office.post("/password-reset/", {"email": "nobody@example.org"})
        assert unknown["Location"] == "/password-reset/sent/"


def test_a_network_asking_for_too_many_links_is_told_to_wait(settings, broker_a):
    settings.PASSWORD_RESET_ADDRESS_LIMIT = 4
    settings.PASSWORD_RESET_ADDRESS_WINDOW_SECONDS = 600
    crowd = Client(REMOTE_ADDR="198.51.100.7")
    for number in range(4):
        assert crowd.post("/password-reset/", {"email": f"person{number}@example.org"}).status_code == 302

    refused = crowd.post("/password-reset/", {"email": broker_a.email})

    assert refused.status_code == 200
    assert b"too many requests for a password reset from your network. Try again in 10 minutes" in refused.content
    assert mail.outbox == []
    # Another network is not held up.
    assert Client(REMOTE_ADDR="192.0.2.1").post("/password-reset/", {"email": broker_a.email}).status_code == 302
    assert len(mail.outbox) == 1
