"""Foundation: lots, roles and scoping, health, settings, commands, the Celery round trip."""

import os
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest
from django.core.management import call_command
from django.db import IntegrityError, connection, transaction

from core.errors import ApplicationError
from core.models import AuditEvent
from lots.models import Lot, LotRules
from lots.reference import LOTS
from lots.services import lot_rules_update
from organisations.models import Organisation, User

ROOT = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.django_db


def test_migrate_creates_the_ten_lots_of_the_brief():
    lots = list(Lot.objects.order_by("number").values_list("number", "name"))
    assert lots == [(number, name) for number, name, *_ in LOTS]
    assert Lot.objects.get(number=8).name == "Learning disability nursing (incl. autism)"
    assert Lot.objects.get(number=8).setting == "nursing"
    assert set(Lot.objects.filter(client_group="older_people").values_list("number", flat=True)) == {1, 2, 6, 7}


def test_each_commissioning_body_gets_rules_for_every_lot(council_a, provider_a):
    assert LotRules.objects.filter(commissioner=council_a).count() == 10
    assert not LotRules.objects.filter(commissioner=provider_a).exists()


def test_weights_not_summing_to_100_are_refused_with_a_field_error(commissioner_a, as_user):
    response = as_user(commissioner_a).post(
        "/commissioner/lots/3/edit/",
        {
            "target_days": 5,
            "quality_weight": 70,
            "price_weight": 40,
            "guide_weekly_fee": "1400.00",
            "default_window_hours": 48,
            "min_window_hours": 2,
            "max_window_hours": 168,
            "not_yet_rated_score": 50,
            "admission_mode": "always_open",
            "reason": "Rebalance",
        },
    )
    assert response.status_code == 200
    form = response.context["form"]
    assert "Quality and price weights must add up to 100 (they add up to 110)." in form.errors["quality_weight"]
    assert b"govuk-error-summary" in response.content
    rules = LotRules.objects.get(commissioner=commissioner_a.organisation, lot__number=3)
    assert (rules.quality_weight, rules.price_weight) == (60, 40)


def test_weights_are_refused_by_the_service_and_the_database(commissioner_a):
    rules = LotRules.objects.get(commissioner=commissioner_a.organisation, lot__number=1)
    with pytest.raises(ApplicationError) as refused:
        lot_rules_update(rules=rules, actor=commissioner_a, quality_weight=50, price_weight=40)
    assert "price_weight" in refused.value.fields
    with pytest.raises(IntegrityError), transaction.atomic():
        LotRules.objects.filter(pk=rules.pk).update(quality_weight=99)


def test_commissioner_changes_lot_rules_and_the_change_is_audited(commissioner_a, as_user):
    response = as_user(commissioner_a).post(
        "/commissioner/lots/1/edit/",
        {
            "target_days": 7,
            "quality_weight": 70,
            "price_weight": 30,
            "guide_weekly_fee": "812.50",
            "default_window_hours": 24,
            "min_window_hours": 2,
            "max_window_hours": 168,
            "not_yet_rated_score": 50,
            "admission_mode": "always_open",
            "reason": "Cabinet decision",
        },
    )
    assert response.status_code == 302
    rules = LotRules.objects.get(commissioner=commissioner_a.organisation, lot__number=1)
    assert rules.guide_weekly_fee == Decimal("812.50")
    event = AuditEvent.objects.get(verb="lots.rules.updated")
    assert event.actor == commissioner_a
    assert event.reason == "Cabinet decision"
    assert event.detail["after"]["quality_weight"] == "70"


@pytest.mark.parametrize("path", ["/broker/", "/commissioner/", "/commissioner/lots/", "/commissioner/lots/1/edit/"])
def test_provider_user_gets_403_on_council_pages(provider_user_a, as_user, path):
    assert as_user(provider_user_a).get(path).status_code == 403


@pytest.mark.parametrize("path", ["/provider/", "/commissioner/", "/commissioner/lots/1/edit/"])
def test_broker_gets_403_on_other_roles_pages(broker_a, as_user, path):
    assert as_user(broker_a).get(path).status_code == 403


def test_anonymous_visitors_are_sent_to_sign_in(client):
    response = client.get("/broker/")
    assert response.status_code == 302
    assert response["Location"].startswith("/sign-in/?next=/broker/")


def test_broker_of_council_a_sees_nothing_of_council_b(broker_a, commissioner_b, as_user, api_as):
    rules_b = LotRules.objects.get(commissioner=commissioner_b.organisation, lot__number=5)
    lot_rules_update(rules=rules_b, actor=commissioner_b, guide_weekly_fee=Decimal("4321.09"))
    page = as_user(broker_a).get("/commissioner/lots/")
    assert page.status_code == 200
    assert b"4321.09" not in page.content
    api = as_user(broker_a).get("/api/v1/lots/")
    assert api.status_code == 200
    assert len(api.json()) == 10
    assert "4321.09" not in api.content.decode()
    csv = b"".join(as_user(broker_a).get("/commissioner/lots/?format=csv").streaming_content)
    assert b"4321.09" not in csv
    assert csv.count(b"\n") == 11


def test_commissioner_cannot_edit_another_councils_rules_through_the_service(commissioner_a, council_b):
    rules_b = LotRules.objects.get(commissioner=council_b, lot__number=1)
    from core.errors import ForbiddenError

    with pytest.raises(ForbiddenError):
        lot_rules_update(rules=rules_b, actor=commissioner_a, target_days=3)


def test_provider_api_client_cannot_read_council_lot_rules(provider_a, api_as):
    assert api_as(provider_a).get("/api/v1/lots/").status_code == 403


def test_api_client_without_read_scope_is_refused(council_a, api_as):
    caller = api_as(council_a, scopes=["dashboards"])
    response = caller.get("/api/v1/lots/")
    assert response.status_code == 403
    assert response["Content-Type"] == "application/problem+json"


def test_api_rejects_unknown_and_revoked_credentials(council_a, api_as, client):
    from django.utils import timezone

    assert client.get("/api/v1/lots/", HTTP_AUTHORIZATION="Bearer nope.nope").status_code == 401
    caller = api_as(council_a)
    assert caller.get("/api/v1/lots/").status_code == 200
    caller.api_client.revoked_at = timezone.now()
    caller.api_client.save()
    assert caller.get("/api/v1/lots/").status_code == 401


def test_each_role_signs_in_and_reaches_its_home(client, broker_a, commissioner_a, provider_user_a):
    from .factories import TEST_PASSWORD

    for user, home in [(broker_a, "/broker/"), (commissioner_a, "/commissioner/"), (provider_user_a, "/provider/")]:
        client.logout()
        response = client.post("/sign-in/", {"username": user.email, "password": TEST_PASSWORD}, follow=True)
        assert response.redirect_chain[-1][0] == home
        assert response.status_code == 200


def test_wrong_password_shows_an_error_summary(client, broker_a):
    response = client.post("/sign-in/", {"username": broker_a.email, "password": "wrong"})
    assert response.status_code == 200
    assert b"govuk-error-summary" in response.content


def test_healthz_reports_database_and_broker(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "checks": {"database": "ok", "broker": "ok"}}


def test_healthz_answers_503_naming_the_broker_when_it_is_unreachable(client, monkeypatch):
    # Celery reads CELERY_BROKER_WRITE_URL before its configuration; patching the setting itself
    # would leave the resolved URL pinned as an explicit key after the test.
    monkeypatch.setenv("CELERY_BROKER_WRITE_URL", "redis://127.0.0.1:1/0")
    response = client.get("/healthz")
    assert response.status_code == 503
    body = response.json()
    assert body["checks"]["broker"].startswith("broker unreachable")
    assert body["checks"]["database"] == "ok"


@pytest.mark.celery_worker
def test_celery_task_round_trip_through_a_real_worker_on_redis(celery_worker):
    from core.tasks import ping

    assert celery_worker.conf.broker_url.startswith("redis://")
    result = ping.delay()
    assert result.get(timeout=20) == {"pong": True, "database": True}


def test_production_settings_refuse_the_insecure_default_key():
    env = {k: v for k, v in os.environ.items() if k not in {"SECRET_KEY", "DEBUG"}}
    env["DEBUG"] = "false"
    result = subprocess.run(
        [sys.executable, "-c", "import config.settings"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode != 0
    assert "SECRET_KEY is not set" in result.stderr


def test_create_organisation_and_user_commands(capsys):
    call_command("create_organisation", kind="nhs", name="Staffordshire ICB", slug="staffs-icb")
    call_command("create_user", org="staffs-icb", role="commissioner", email="Lead@ICB.example")
    out = capsys.readouterr().out
    assert "Created NHS body Staffordshire ICB" in out
    password = out.split("One-time password (ask them to change it after signing in): ")[1].strip()
    user = User.objects.get(email="lead@icb.example")
    assert user.check_password(password)
    assert user.organisation.kind == Organisation.Kind.NHS


def test_create_user_refuses_a_role_that_does_not_fit_the_organisation(provider_a):
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="Provider organisations only have provider users"):
        call_command("create_user", org=provider_a.slug, role="broker", email="x@example.org")
    assert not User.objects.filter(email="x@example.org").exists()


def test_create_api_client_prints_a_token_that_authenticates(council_a, capsys, client):
    call_command("create_api_client", org=council_a.slug, name="Mosaic", scopes=["read", "placement-requests"])
    token = capsys.readouterr().out.strip().splitlines()[-1]
    response = client.get("/api/v1/lots/", HTTP_AUTHORIZATION=f"Bearer {token}")
    assert response.status_code == 200
    client_row = council_a.api_clients.get()
    assert token.split(".")[1] not in client_row.secret_hash
    assert client_row.last_used_at is not None


def test_seed_demo_is_idempotent_and_its_logins_reach_their_homes(client, capsys):
    call_command("seed_demo")
    call_command("seed_demo")
    from demo.organisations import DEMO_PASSWORD
    from providers.models import CareHome

    assert CareHome.objects.count() == 40
    assert set(CareHome.objects.values_list("admissions__lot__number", flat=True)) == set(range(1, 11))
    out = capsys.readouterr().out
    for email, home in [
        ("broker@staffordshire.example", "/broker/"),
        ("commissioner@staffordshire.example", "/commissioner/"),
        ("manager@trentside-care.example", "/provider/"),
    ]:
        assert email in out
        client.logout()
        response = client.post("/sign-in/", {"username": email, "password": DEMO_PASSWORD}, follow=True)
        assert response.redirect_chain[-1][0] == home


def test_api_schema_is_served(client, broker_a):
    client.force_login(broker_a)
    response = client.get("/api/v1/schema/")
    assert response.status_code == 200
    assert b"/api/v1/lots/" in response.content


def test_a_notification_is_recorded_once_per_event_and_person(broker_a):
    from core.notifications import notify_users

    for _ in range(2):
        notify_users(
            users=[broker_a],
            verb="test.event",
            subject="Hello",
            template="emails/test_message.txt",
            context={"message": "Something happened"},
            dedupe_key="test.event:1",
            link="/broker/",
        )
    notification = broker_a.notifications.get()
    assert "Something happened" in notification.body
    assert "http://127.0.0.1:8000/broker/" in notification.body


@pytest.mark.celery_worker
def test_the_worker_emails_a_notification_once(celery_worker, broker_a, mailoutbox):
    from core.notifications import notify_users
    from core.tasks import send_notification

    with transaction.atomic():
        (notification,) = notify_users(
            users=[broker_a],
            verb="test.event",
            subject="Tender closed",
            template="emails/test_message.txt",
            context={"message": "Closed"},
            dedupe_key="test.event:2",
        )
    import time

    deadline = time.monotonic() + 20
    while not mailoutbox and time.monotonic() < deadline:
        time.sleep(0.1)
    assert send_notification.delay(notification.pk).get(timeout=20) is False
    assert [m.subject for m in mailoutbox] == ["Tender closed"]
    notification.refresh_from_db()
    assert notification.sent_at is not None


@pytest.mark.django_db
def test_postgresql_ends_sessions_left_idle_in_a_transaction():
    with connection.cursor() as cursor:
        cursor.execute("SHOW idle_in_transaction_session_timeout")
        assert cursor.fetchone()[0] == "10min"


def test_the_idle_in_transaction_timeout_refuses_a_negative_value():
    env = {**os.environ, "DATABASE_IDLE_IN_TRANSACTION_TIMEOUT": "-1"}
    result = subprocess.run(
        [sys.executable, "-c", "import config.settings"], cwd=ROOT, env=env, capture_output=True, text=True, check=False
    )
    assert result.returncode != 0
    assert "DATABASE_IDLE_IN_TRANSACTION_TIMEOUT" in result.stderr
