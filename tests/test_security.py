"""Security basics: sign-in throttling and auditing, production settings, CSRF."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.test import Client

from core.models import AuditEvent

from .factories import TEST_PASSWORD

ROOT = Path(__file__).resolve().parent.parent
pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fresh_cache")]


def test_sign_in_and_sign_out_are_audited(client, broker_a):
    client.post("/sign-in/", {"username": broker_a.email, "password": TEST_PASSWORD})
    client.post("/sign-out/")
    verbs = list(AuditEvent.objects.filter(target_id=str(broker_a.pk)).values_list("verb", flat=True))
    assert verbs == ["organisations.user.signed_in", "organisations.user.signed_out"]


def test_failed_sign_in_is_audited_without_the_password(client, broker_a):
    client.post("/sign-in/", {"username": broker_a.email, "password": "not-my-password"})
    event = AuditEvent.objects.get(verb="organisations.user.sign_in_failed")
    assert event.target_id == str(broker_a.pk)
    assert event.organisation_id == broker_a.organisation_id
    assert "not-my-password" not in str(event.detail)


def test_repeated_failures_throttle_sign_in_even_with_the_right_password(client, broker_a, settings):
    settings.LOGIN_FAILURE_LIMIT = 3
    for _ in range(3):
        assert client.post("/sign-in/", {"username": broker_a.email, "password": "wrong"}).status_code == 200
    response = client.post("/sign-in/", {"username": broker_a.email, "password": TEST_PASSWORD})
    assert response.status_code == 200
    assert b"too many failed attempts to sign in with this e-mail address" in response.content
    assert "_auth_user_id" not in client.session
    assert AuditEvent.objects.filter(verb="organisations.user.sign_in_throttled").count() == 1


def test_throttling_counts_per_address_too(broker_a, commissioner_a, settings):
    settings.LOGIN_ADDRESS_FAILURE_LIMIT = 2
    client = Client(REMOTE_ADDR="203.0.113.9")
    client.post("/sign-in/", {"username": "someone@example.org", "password": "x"})
    client.post("/sign-in/", {"username": "other@example.org", "password": "x"})
    response = client.post("/sign-in/", {"username": commissioner_a.email, "password": TEST_PASSWORD})
    assert b"too many failed attempts to sign in from your network" in response.content
    other_place = Client(REMOTE_ADDR="198.51.100.7")
    response = other_place.post("/sign-in/", {"username": commissioner_a.email, "password": TEST_PASSWORD})
    assert response.status_code == 302


def test_forms_need_a_csrf_token(broker_a):
    client = Client(enforce_csrf_checks=True)
    response = client.post("/sign-in/", {"username": broker_a.email, "password": TEST_PASSWORD})
    assert response.status_code == 403


def test_passwords_are_hashed_with_argon2(broker_a):
    assert broker_a.password.startswith("argon2$")


def _production_env() -> dict:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("SECURE_", "DEBUG", "SECRET_KEY", "DJANGO_ALLOW_ASYNC_UNSAFE"))
    }
    env.update(
        DEBUG="false",
        SECRET_KEY="a8Yq-1v9Vd3pK2s7Zr0Lw5Xn6Tb4Hc8Jm1Qe9Uf3Ig7Oy2Ra5Sk0Dl6Gh4Pz",
        ALLOWED_HOSTS="placements.example.gov.uk",
    )
    return env


def test_production_settings_pass_the_deployment_checklist():
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=_production_env(),
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_production_settings_use_secure_cookies_hsts_and_https():
    code = (
        "import django, os; os.environ['DJANGO_SETTINGS_MODULE']='config.settings'; django.setup();"
        "from django.conf import settings as s;"
        "print(s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE, s.SECURE_HSTS_SECONDS, s.SECURE_SSL_REDIRECT)"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=_production_env(), capture_output=True, text=True, check=True
    )
    assert result.stdout.split() == ["True", "True", "31536000", "True"]
