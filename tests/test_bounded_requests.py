"""Every request does bounded work: date filters stay within 2000-2100 and ten years, and a web
request's statements are cut off after DATABASE_STATEMENT_TIMEOUT while long jobs get longer."""

import json
import os
import re
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest
from django import forms
from django.conf import settings
from django.core.management import CommandError, call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from core.dates import BACKWARDS, OUT_OF_BOUNDS, TOO_LONG, date_filter_errors
from dashboards.forms import MonthField
from dashboards.registry import DASHBOARDS

ROOT = Path(__file__).resolve().parent.parent
PROBLEM_JSON = "application/problem+json"
# Signing in and finding the caller's organisation read these; a report reads anything else.
SIGN_IN_TABLES = ("django_session", "organisations_")


def report_tables(queries) -> set[str]:
    tables = {name for query in queries for name in re.findall(r'(?:FROM|JOIN|UPDATE|INTO) "(\w+)"', query["sql"])}
    return {name for name in tables if not name.startswith(SIGN_IN_TABLES)}


def get_refused(client, path: str):
    """GET path, which must be refused with a 400 before any report query runs."""
    with CaptureQueriesContext(connection) as queries:
        response = client.get(path)
    assert response.status_code == 400, (path, response.status_code)
    assert report_tables(queries.captured_queries) == set(), path
    return response


def field_errors(response) -> dict:
    assert response["Content-Type"] == PROBLEM_JSON
    return response.json()["errors"]


def date_fields(dashboard) -> dict[str, str]:
    """Each date filter of a dashboard with a value out of bounds in that field's format."""
    bad = {}
    for name, field in dashboard.form_class().fields.items():
        if isinstance(field, MonthField):
            bad[name] = "0587-05"
        elif isinstance(field, forms.DateField):
            bad[name] = "0587-05-13"
    return bad


class TestTheRule:
    def test_years_from_2000_to_2100_are_allowed(self):
        assert date_filter_errors({"at": date(2000, 1, 1), "to": date(2100, 12, 31)}) == {}
        assert date_filter_errors({"at": date(1999, 12, 31), "to": date(2101, 1, 1)}) == {
            "at": OUT_OF_BOUNDS,
            "to": OUT_OF_BOUNDS,
        }

    def test_a_range_spans_at_most_ten_years_both_ends_included(self):
        span = ("from", "to")
        assert date_filter_errors({"from": date(2010, 1, 1), "to": date(2019, 12, 31)}, range_of=span) == {}
        assert date_filter_errors({"from": date(2010, 1, 1), "to": date(2020, 1, 1)}, range_of=span) == {"to": TOO_LONG}
        assert date_filter_errors({"from": date(2012, 2, 29), "to": date(2022, 3, 1)}, range_of=span) == {
            "to": TOO_LONG
        }

    def test_a_range_runs_forwards(self):
        span = ("from", "to")
        assert date_filter_errors({"from": date(2024, 5, 2), "to": date(2024, 5, 1)}, range_of=span) == {
            "to": BACKWARDS
        }
        assert date_filter_errors({"from": date(2024, 5, 1), "to": date(2024, 5, 1)}, range_of=span) == {}


@pytest.mark.django_db
class TestDashboards:
    def test_the_probed_block_utilisation_request_is_refused_at_once(self, commissioner_a, as_user):
        response = get_refused(as_user(commissioner_a), "/api/v1/dashboards/block-utilisation/?from=0587-05-13")
        assert field_errors(response) == {"from": [OUT_OF_BOUNDS]}

    def test_block_utilisation_from_alone_may_not_reach_over_ten_years_back(self, commissioner_a, as_user):
        response = get_refused(as_user(commissioner_a), "/api/v1/dashboards/block-utilisation/?from=2001-01-01")
        assert field_errors(response) == {"to": [TOO_LONG]}

    def test_block_utilisation_refuses_a_backwards_range_and_a_day_out_of_bounds(self, commissioner_a, as_user):
        client = as_user(commissioner_a)
        backwards = get_refused(client, "/api/v1/dashboards/block-utilisation/?from=2024-05-01&to=2024-01-01")
        assert "to" in field_errors(backwards)
        late = get_refused(client, "/api/v1/dashboards/block-utilisation/?at=2101-01-01")
        assert field_errors(late) == {"at": [OUT_OF_BOUNDS]}

    def test_every_dashboard_endpoint_page_and_export_refuses_a_date_out_of_bounds(self, commissioner_a, as_user):
        client = as_user(commissioner_a)
        checked = 0
        for name, dashboard in DASHBOARDS.items():
            for field, value in date_fields(dashboard).items():
                for bad in {value, "0587-05-13"}:
                    errors = field_errors(get_refused(client, f"/api/v1/dashboards/{name}/?{field}={bad}"))
                    assert list(errors) == [field], (name, errors)
                    for page in (f"/dashboards/{name}/?{field}={bad}", f"/dashboards/{name}/?{field}={bad}&format=csv"):
                        html = get_refused(client, page).content.decode()
                        assert "govuk-error-summary" in html and "govuk-error-message" in html, page
                    checked += 1
        # Six month ranges' from and to, as a month and as a day, and the client-group, who-pays and
        # market-position days.
        assert checked == 6 * 2 * 2 + 3

    def test_month_ranges_over_ten_years_or_backwards_are_refused(self, commissioner_a, as_user):
        client = as_user(commissioner_a)
        for name, dashboard in DASHBOARDS.items():
            if "from" not in date_fields(dashboard):
                continue
            too_long = get_refused(client, f"/api/v1/dashboards/{name}/?from=2010-01&to=2020-01")
            assert field_errors(too_long) == {"to": [TOO_LONG]}, name
            backwards = get_refused(client, f"/api/v1/dashboards/{name}/?from=2024-05&to=2024-01")
            assert field_errors(backwards) == {"to": [BACKWARDS]}, name
            assert TOO_LONG in get_refused(client, f"/dashboards/{name}/?from=2010-01&to=2020-01").content.decode()
            assert client.get(f"/api/v1/dashboards/{name}/?from=2010-01&to=2019-12").status_code == 200, name

    def test_the_export_command_refuses_a_year_out_of_bounds(self, council_a):
        with pytest.raises(CommandError, match="from"):
            call_command("export_dashboard", "timeliness", "--from", "0587-05", "--commissioner", council_a.slug)

    def test_block_utilisation_page_and_its_export_refuse_a_year_out_of_bounds(self, commissioner_a, as_user):
        client = as_user(commissioner_a)
        for suffix in ("", "&format=csv", "&format=csv&table=months"):
            response = client.get(f"/block-contracts/utilisation/?date_from=0587-05-13&date_to=2024-01-01{suffix}")
            assert response.status_code == 400
            html = response.content.decode()
            assert "govuk-error-message" in html and OUT_OF_BOUNDS in html


@pytest.mark.django_db
class TestOtherDateFilters:
    def test_block_contracts_active_on_a_day_out_of_bounds(self, council_a, api_as):
        response = get_refused(api_as(council_a, scopes=["read"]), "/api/v1/block-contracts/?active_on=0587-05-13")
        assert field_errors(response) == {"active_on": [OUT_OF_BOUNDS]}

    def test_payment_schedule_for_a_week_out_of_bounds(self, council_a, broker_a, api_as, as_user):
        response = get_refused(api_as(council_a, scopes=["read"]), "/api/v1/payment-schedules/?period=0587-W20/4")
        assert field_errors(response) == {"period": [OUT_OF_BOUNDS]}
        page = as_user(broker_a).get("/payments/?period=2101-W02&format=csv")
        assert page.status_code == 400
        assert OUT_OF_BOUNDS in page.content.decode()

    def test_open_data_releases_window(self, client):
        errors = field_errors(get_refused(client, "/api/v1/ocds/releases/?from=0587-05-13"))
        assert errors == {"from": [OUT_OF_BOUNDS]}
        errors = field_errors(get_refused(client, "/api/v1/ocds/releases/?from=2024-05-01&to=2024-01-01"))
        assert errors == {"to": [BACKWARDS]}
        errors = field_errors(get_refused(client, "/api/v1/ocds/releases/?from=2000-01-01&to=2015-01-01"))
        assert errors == {"to": [TOO_LONG]}
        assert client.get("/api/v1/ocds/releases/?from=2015-01-01&to=2024-06-01").status_code == 200


def run_django(code: str, *args: str, timeout: str = "1", task_timeout: str = "0") -> subprocess.CompletedProcess:
    """Run Python in a fresh process against the test database, with the given statement timeouts."""
    db = connection.settings_dict
    env = {
        **os.environ,
        "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
        "DATABASE_STATEMENT_TIMEOUT": timeout,
        "DATABASE_TASK_STATEMENT_TIMEOUT": task_timeout,
        "DJANGO_SETTINGS_MODULE": "config.settings",
    }
    return subprocess.run(
        [sys.executable, *args, code] if args else [sys.executable, "-c", code],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


SLEEP = "from django.db import connection\nconnection.cursor().execute('SELECT pg_sleep(1.5)')\nprint('slept')"


@pytest.mark.django_db
class TestStatementTimeouts:
    def test_web_connections_carry_the_configured_timeout(self, commissioner_a, as_user):
        assert as_user(commissioner_a).get("/dashboards/").status_code == 200
        with connection.cursor() as cursor:
            cursor.execute("SELECT setting::int FROM pg_settings WHERE name = 'statement_timeout'")
            assert cursor.fetchone()[0] == settings.DATABASE_STATEMENT_TIMEOUT * 1000

    def test_a_web_request_past_the_timeout_is_stopped_and_answered_503(self, council_a, api_as):
        # Hold the API clients' table: the request's credential lookup waits on the lock until its
        # one-second statement timeout cancels it.
        token = api_as(council_a, scopes=["read"]).token
        with connection.cursor() as cursor:
            cursor.execute('LOCK TABLE "organisations_apiclient" IN ACCESS EXCLUSIVE MODE')
        request = (
            "import django\ndjango.setup()\nfrom django.test import Client\n"
            f"response = Client(HTTP_AUTHORIZATION='Bearer {token}').get('/api/v1/placements/')\n"
            "print(response.status_code, response['Content-Type'], 'Retry-After' in response)"
        )
        result = run_django(request)
        assert result.stdout.split() == ["503", PROBLEM_JSON, "True"], result.stderr
        assert "canceling statement due to statement timeout" in result.stderr

    def test_a_process_that_was_not_switched_is_bounded(self):
        result = run_django("import django\ndjango.setup()\n" + SLEEP)
        assert result.returncode != 0
        assert "canceling statement due to statement timeout" in result.stderr

    def test_management_commands_use_the_task_timeout(self):
        result = run_django(SLEEP, "manage.py", "shell", "-c")
        assert result.returncode == 0, result.stderr
        assert "slept" in result.stdout

    def test_the_celery_worker_uses_the_task_timeout(self):
        worker_start = (
            "import django\ndjango.setup()\nfrom celery import signals\nfrom config.celery import app\n"
            "signals.celeryd_init.send(sender='worker@test', instance=None, conf=app.conf, options={})\n"
        )
        result = run_django(worker_start + SLEEP)
        assert result.returncode == 0, result.stderr
        assert "slept" in result.stdout


def _gunicorn_settings(environment: dict) -> dict:
    """The settings gunicorn reads from config/gunicorn.conf.py under `environment`."""
    script = (
        "import json, runpy\nfrom gunicorn.config import Config\nconfig = Config()\n"
        "for key, value in runpy.run_path('config/gunicorn.conf.py').items():\n"
        "    if key in config.settings: config.set(key, value)\n"
        "print(json.dumps({'timeout': config.timeout, 'keepalive': config.keepalive, 'threads': config.threads,"
        " 'worker_class': config.worker_class_str}))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, env={**os.environ, **environment}, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_gunicorn_waits_a_little_longer_than_the_web_statement_timeout():
    compose = (ROOT / "docker-compose.yml").read_text()
    statement = int(re.search(r'DATABASE_STATEMENT_TIMEOUT: "(\d+)"', compose)[1])
    for text in (compose, (ROOT / "Dockerfile").read_text()):
        assert re.search(r'gunicorn"?,? "?config\.wsgi"?,? "?-c"?,? "?config/gunicorn\.conf\.py', text)
    for seconds in (statement, 30):
        settings = _gunicorn_settings({"DATABASE_STATEMENT_TIMEOUT": str(seconds)})
        assert seconds < settings["timeout"] <= 2 * seconds
        assert settings["worker_class"] == "config.gunicorn_worker.ReceiptThreadWorker"
        assert settings["threads"] > 1


def test_gunicorn_keeps_idle_connections_longer_than_the_clients_in_front_of_it():
    # A client or load balancer reusing a connection gunicorn has just closed has it reset under
    # its request; keeping it open longer than they do (commonly 60 s) leaves the closing to them.
    assert _gunicorn_settings({})["keepalive"] > 60
