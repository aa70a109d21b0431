"""Fair sign-in throttling: failures lock the account that was tried, with a wait that grows; an
address is blocked only at a much higher count; X-Forwarded-For counts only from a trusted proxy."""

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.core.cache import cache
from django.db import connection
from django.test import Client, RequestFactory
from django.urls import reverse

from core.models import AuditEvent
from organisations.signin import account_lockout_seconds, client_address

from .factories import TEST_PASSWORD

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fresh_cache")]

OFFICE = "203.0.113.9"
ELSEWHERE = "198.51.100.7"


def sign_in(client: Client, email: str, password: str):
    return client.post("/sign-in/", {"username": email, "password": password})


def signed_in(response) -> bool:
    return response.status_code == 302 and "_auth_user_id" in response.client.session


def test_the_defaults_let_a_whole_office_share_one_address():
    from django.conf import settings

    assert settings.LOGIN_FAILURE_LIMIT == 5
    assert settings.LOGIN_LOCKOUT_SECONDS == 60
    assert settings.LOGIN_ADDRESS_FAILURE_LIMIT == 100
    assert settings.LOGIN_ADDRESS_WINDOW_SECONDS == 900
    assert settings.TRUSTED_PROXIES == []


def test_five_failures_lock_the_account_and_the_right_password_must_wait(broker_a):
    client = Client(REMOTE_ADDR=OFFICE)
    for attempt in range(4):
        response = sign_in(client, broker_a.email, "wrong")
        assert b"Try again" not in response.content, attempt
    fifth = sign_in(client, broker_a.email, "wrong")
    assert b"too many failed attempts to sign in with this e-mail address. Try again in 1 minute." in fifth.content

    response = sign_in(client, broker_a.email, TEST_PASSWORD)

    assert response.status_code == 200
    assert "_auth_user_id" not in client.session
    assert b"Try again in 1 minute." in response.content
    assert AuditEvent.objects.filter(verb="organisations.user.sign_in_throttled").count() == 1
    # The lock follows the account, wherever the next attempt comes from.
    assert b"Try again in 1 minute." in sign_in(Client(REMOTE_ADDR=ELSEWHERE), broker_a.email, TEST_PASSWORD).content


def test_the_wait_doubles_with_each_further_failure_up_to_the_cap(settings):
    settings.LOGIN_FAILURE_LIMIT = 5
    settings.LOGIN_LOCKOUT_SECONDS = 60
    settings.LOGIN_LOCKOUT_MAX_SECONDS = 3600

    waits = [account_lockout_seconds(failures) for failures in range(1, 13)]

    assert waits == [0, 0, 0, 0, 60, 120, 240, 480, 960, 1920, 3600, 3600]
    assert account_lockout_seconds(10_000) == 3600


def test_the_wait_grows_in_practice_and_a_success_starts_the_count_again(broker_a, settings):
    settings.LOGIN_FAILURE_LIMIT = 2
    settings.LOGIN_LOCKOUT_SECONDS = 1
    settings.LOGIN_LOCKOUT_MAX_SECONDS = 60
    client = Client(REMOTE_ADDR=OFFICE)
    sign_in(client, broker_a.email, "wrong")
    sign_in(client, broker_a.email, "wrong")
    assert not signed_in(sign_in(client, broker_a.email, TEST_PASSWORD))

    time.sleep(1.2)
    sign_in(client, broker_a.email, "wrong")  # the third failure: two seconds now
    time.sleep(1.2)
    assert not signed_in(sign_in(client, broker_a.email, TEST_PASSWORD))
    time.sleep(1.0)
    assert signed_in(sign_in(client, broker_a.email, TEST_PASSWORD))

    client.logout()
    sign_in(client, broker_a.email, "wrong")
    assert signed_in(sign_in(client, broker_a.email, TEST_PASSWORD))


def test_one_persons_failures_do_not_stop_a_colleague_at_the_same_address(broker_a, commissioner_a, settings):
    settings.LOGIN_FAILURE_LIMIT = 3
    office = Client(REMOTE_ADDR=OFFICE)
    for _ in range(3):
        sign_in(office, broker_a.email, "wrong")
    assert b"Try again in 1 minute." in sign_in(office, broker_a.email, TEST_PASSWORD).content

    colleague = Client(REMOTE_ADDR=OFFICE)
    assert signed_in(sign_in(colleague, commissioner_a.email, TEST_PASSWORD))


def test_an_address_is_blocked_only_at_its_own_much_higher_count(commissioner_a, settings):
    settings.LOGIN_FAILURE_LIMIT = 3
    settings.LOGIN_ADDRESS_FAILURE_LIMIT = 6
    office = Client(REMOTE_ADDR=OFFICE)
    for number in range(5):
        sign_in(office, f"someone{number}@example.org", "wrong")
    assert signed_in(sign_in(Client(REMOTE_ADDR=OFFICE), commissioner_a.email, TEST_PASSWORD))

    sign_in(office, "someone5@example.org", "wrong")
    response = sign_in(Client(REMOTE_ADDR=OFFICE), commissioner_a.email, TEST_PASSWORD)

    assert response.status_code == 200
    assert b"too many failed attempts to sign in from your network. Try again in 15 minutes." in response.content
    assert signed_in(sign_in(Client(REMOTE_ADDR=ELSEWHERE), commissioner_a.email, TEST_PASSWORD))


def _request(remote: str, forwarded: str | None = None):
    extra = {"REMOTE_ADDR": remote}
    if forwarded is not None:
        extra["HTTP_X_FORWARDED_FOR"] = forwarded
    return RequestFactory().get("/", **extra)


def test_x_forwarded_for_is_ignored_unless_the_request_comes_from_a_trusted_proxy(settings):
    settings.TRUSTED_PROXIES = []
    assert client_address(_request(OFFICE, "192.0.2.1")) == OFFICE

    settings.TRUSTED_PROXIES = ["10.0.0.0/8", "2001:db8::1"]
    assert client_address(_request(OFFICE, "192.0.2.1")) == OFFICE
    assert client_address(_request("10.1.2.3", "192.0.2.1")) == "192.0.2.1"
    assert client_address(_request("2001:db8::1", "192.0.2.1")) == "192.0.2.1"
    # A client may write anything to the left; only what our proxies appended counts.
    assert client_address(_request("10.1.2.3", "6.6.6.6, 192.0.2.1")) == "192.0.2.1"
    assert client_address(_request("10.1.2.3", "6.6.6.6, 192.0.2.1, 10.9.9.9")) == "192.0.2.1"
    assert client_address(_request("10.1.2.3", "not-an-address")) == "10.1.2.3"
    assert client_address(_request("10.1.2.3")) == "10.1.2.3"


def test_a_forged_header_does_not_escape_an_address_block(commissioner_a, settings):
    settings.LOGIN_ADDRESS_FAILURE_LIMIT = 2
    for number in range(2):
        forged = Client(REMOTE_ADDR=OFFICE, HTTP_X_FORWARDED_FOR=f"192.0.2.{number}")
        sign_in(forged, f"someone{number}@example.org", "wrong")

    forged = Client(REMOTE_ADDR=OFFICE, HTTP_X_FORWARDED_FOR="192.0.2.99")
    response = sign_in(forged, commissioner_a.email, TEST_PASSWORD)

    assert b"from your network" in response.content
    event = AuditEvent.objects.filter(verb="organisations.user.sign_in_failed").first()
    assert event.detail["address"] == OFFICE


def test_behind_a_trusted_proxy_each_client_address_has_its_own_budget(commissioner_a, settings):
    settings.LOGIN_ADDRESS_FAILURE_LIMIT = 2
    settings.TRUSTED_PROXIES = ["10.0.0.0/8"]
    for number in range(2):
        sign_in(Client(REMOTE_ADDR="10.0.0.5", HTTP_X_FORWARDED_FOR="192.0.2.1"), f"x{number}@example.org", "wrong")

    blocked = sign_in(Client(REMOTE_ADDR="10.0.0.5", HTTP_X_FORWARDED_FOR="192.0.2.1"), commissioner_a.email, "x")
    other = Client(REMOTE_ADDR="10.0.0.5", HTTP_X_FORWARDED_FOR="192.0.2.2")

    assert b"from your network" in blocked.content
    assert signed_in(sign_in(other, commissioner_a.email, TEST_PASSWORD))
    assert AuditEvent.objects.filter(verb="organisations.user.signed_in").get().detail["address"] == "192.0.2.2"


def test_the_api_counts_anonymous_callers_by_the_same_client_address(settings):
    settings.API_THROTTLE_RATE_ANON = "2/min"
    path = reverse("api-ocds-releases")
    answers = [
        Client(REMOTE_ADDR=OFFICE, HTTP_X_FORWARDED_FOR=f"192.0.2.{number}").get(path).status_code
        for number in range(3)
    ]
    assert answers == [200, 200, 429]

    settings.TRUSTED_PROXIES = ["10.0.0.0/8"]
    cache.clear()
    answers = [
        Client(REMOTE_ADDR="10.0.0.5", HTTP_X_FORWARDED_FOR=f"192.0.2.{number}").get(path).status_code
        for number in range(3)
    ]
    assert answers == [200, 200, 200]


@pytest.mark.django_db(transaction=True)
def test_attempts_sent_together_take_turns_so_no_more_passwords_are_tried_than_the_limit(broker_a, settings):
    """Real concurrent connections: ten wrong passwords for one account at the same moment."""
    settings.LOGIN_FAILURE_LIMIT = 3
    attempts = 10
    start = threading.Barrier(attempts)
    clients = [Client(REMOTE_ADDR=f"203.0.113.{number + 10}") for number in range(attempts)]
    for client in clients:
        # Each client loads the middleware on its first request, as a server does once at start.
        client.get("/sign-in/")

    def attempt(number: int):
        client = clients[number]
        start.wait()
        try:
            return sign_in(client, broker_a.email, f"wrong-{number}")
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=attempts) as pool:
        answers = list(pool.map(attempt, range(attempts)))

    assert [a.status_code for a in answers] == [200] * attempts
    tried = AuditEvent.objects.filter(verb="organisations.user.sign_in_failed", target_id=str(broker_a.pk))
    refused = AuditEvent.objects.filter(verb="organisations.user.sign_in_throttled", target_id=str(broker_a.pk))
    assert (tried.count(), refused.count()) == (3, attempts - 3)
    assert sum(b"Try again in" in a.content for a in answers) == attempts - 2
