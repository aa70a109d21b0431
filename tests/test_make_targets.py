"""The two commands: the service check behind `make test`, and the demo on embedded defaults."""

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from http.cookiejar import CookieJar
from pathlib import Path
from urllib.parse import urlencode

import psycopg
import pytest

ROOT = Path(__file__).resolve().parent.parent


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_make_test_refuses_to_run_without_postgresql_and_says_how_to_start_it():
    env = dict(
        os.environ, DATABASE_URL="postgres://postgres@127.0.0.1:1/carehomes", REDIS_URL="redis://127.0.0.1:6379/0"
    )
    result = subprocess.run(
        [sys.executable, "scripts/check_services.py"], cwd=ROOT, env=env, capture_output=True, text=True, check=False
    )
    assert result.returncode == 1
    assert "PostgreSQL is not reachable at 127.0.0.1:1" in result.stderr
    assert "docker compose up -d db redis" in result.stderr


@pytest.mark.parametrize(
    ("debug", "message"),
    [
        ("false", "DATABASE_URL is not set: production (DEBUG=false) needs it to name a PostgreSQL database"),
        ("true", "DATABASE_URL is not set. For the demo run `make demo`"),
    ],
)
def test_settings_refuse_to_start_without_database_url(debug, message):
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env.update(
        DEBUG=debug, SECRET_KEY="a-long-random-production-key-for-this-test", DJANGO_SETTINGS_MODULE="config.settings"
    )
    result = subprocess.run(
        [sys.executable, "-c", "import django; django.setup()"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert message in result.stderr


def test_settings_refuse_a_database_other_than_postgresql():
    env = dict(
        os.environ,
        DATABASE_URL="sqlite:////tmp/carehomes.sqlite3",
        DEBUG="true",
        DJANGO_SETTINGS_MODULE="config.settings",
    )
    result = subprocess.run(
        [sys.executable, "manage.py", "check"], cwd=ROOT, env=env, capture_output=True, text=True, check=False
    )
    assert result.returncode != 0
    assert "DATABASE_URL must name a PostgreSQL database" in result.stderr


def _demo_env(tmp_path) -> dict:
    env = {
        k: v
        for k, v in os.environ.items()
        if k
        not in {"DATABASE_URL", "CELERY_BROKER_URL", "REDIS_URL", "CELERY_RESULT_BACKEND", "SECRET_KEY", "SITE_URL"}
    }
    env.update(DEBUG="true", VAR_DIR=str(tmp_path / "var"), DEMO_PORT=str(_free_port()))
    return env


def _sign_in(base: str, email: str, password: str) -> str:
    jar = CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    page = opener.open(f"{base}/sign-in/").read().decode()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
    data = urlencode({"username": email, "password": password, "csrfmiddlewaretoken": token}).encode()
    request = urllib.request.Request(f"{base}/sign-in/", data=data, headers={"Referer": f"{base}/sign-in/"})
    response = opener.open(request)
    return response.geturl()


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return False
    return state != "Z"


def _session_pids(session: int) -> list[int]:
    """Live processes of a session: the demo script and everything it started, the database's holder included."""
    pids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if os.getsid(int(entry.name)) == session and _alive(int(entry.name)):
                    pids.append(int(entry.name))
            except (ProcessLookupError, PermissionError):
                continue
    return pids


def _restore_ctrl_c():
    # A terminal's Ctrl+C reaches a shell that does not ignore SIGINT; the test runner's own
    # process may have been started with it ignored, which its children would inherit.
    signal.signal(signal.SIGINT, signal.SIG_DFL)


class Demo:
    """`scripts/demo.sh` run as from a terminal: in its own process group, stopped by Ctrl+C."""

    def __init__(self, env: dict):
        self.process = subprocess.Popen(
            ["scripts/demo.sh"],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,
            preexec_fn=_restore_ctrl_c,
        )
        self.output = []
        line = ""
        while "Open http" not in line:
            line = self.process.stdout.readline()
            assert line or self.process.poll() is None, "demo stopped before printing its URL:\n" + "".join(self.output)
            self.output.append(line)
        self.sign_in_url = re.search(r"(http://\S+/sign-in/)", line).group(1)
        self.base = self.sign_in_url.removesuffix("/sign-in/")

    @property
    def text(self) -> str:
        return "".join(self.output)

    def ctrl_c(self) -> str:
        os.killpg(self.process.pid, signal.SIGINT)
        rest, _ = self.process.communicate(timeout=90)
        return rest

    def kill(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=30)
        for pid in _session_pids(self.process.pid):
            os.kill(pid, signal.SIGKILL)


def _wait_for_page(url: str) -> str:
    deadline = time.monotonic() + 60
    while True:
        try:
            return urllib.request.urlopen(url).read().decode()
        except OSError:
            assert time.monotonic() < deadline, "the demo server did not answer"
            time.sleep(0.3)


@pytest.fixture
def demo_dir():
    """A folder for the demo's var/, outside pytest's temporary root.

    Run as root, the embedded server runs as a system user of its own, which must pass through every
    folder above its data; pytest makes its temporary root private again whenever a session starts
    (another run on the same machine), which would shut the server out of its own data mid-test.
    """
    path = Path(tempfile.mkdtemp(prefix="carehomes-demo-"))
    yield path
    shutil.rmtree(path, ignore_errors=True)


def test_demo_runs_on_embedded_postgresql_each_login_reaches_its_home_and_ctrl_c_stops_it_all(demo_dir):
    env = _demo_env(demo_dir)
    var = demo_dir / "var"
    postmaster = None
    demo = Demo(env)
    try:
        assert f"Initialising PostgreSQL in {var / 'postgres'}" in demo.text
        logins = re.findall(r"^\s+(broker|commissioner|provider)\s+(\S+@\S+)", demo.text, flags=re.M)
        assert {role for role, _ in logins} == {"broker", "commissioner", "provider"}
        password = re.search(r"password for all: (\S+)\)", demo.text).group(1)
        assert f"{demo.base}/choice/" in demo.text, "links the demo prints use the port it serves"

        # The demo's data is in the embedded server whose data folder is under var/.
        url = (var / "database_url").read_text().strip()
        assert url.startswith("postgresql://")
        postmaster = int((var / "postgres" / "postmaster.pid").read_text().split()[0])
        with psycopg.connect(url) as connection:
            assert connection.execute("SHOW data_directory").fetchone()[0] == str(var / "postgres")
            assert connection.execute("SELECT current_database()").fetchone()[0] == "carehomes"
            emails = {row[0] for row in connection.execute("SELECT email FROM organisations_user")}
        assert {email for _, email in logins} <= emails
        checked = subprocess.run(
            [
                str(ROOT / ".venv/bin/python"),
                "manage.py",
                "shell",
                "-c",
                "from django.db import connection as c; print(c.vendor)",
            ],
            cwd=ROOT,
            env=dict(env, DATABASE_URL=url),
            capture_output=True,
            text=True,
            check=True,
        )
        assert checked.stdout.splitlines()[-1] == "postgresql"

        assert "Sign in" in _wait_for_page(demo.sign_in_url)
        homes = {"broker": "/broker/", "commissioner": "/commissioner/", "provider": "/provider/"}
        for role, email in logins:
            assert _sign_in(demo.base, email, password).endswith(homes[role])
        health = urllib.request.urlopen(f"{demo.base}/healthz").read().decode()
        assert '"status": "ok"' in health
        assert len(_session_pids(demo.process.pid)) >= 4  # script, database holder, web server, worker

        rest = demo.ctrl_c()
        assert "PostgreSQL stopped." in rest
        assert _session_pids(demo.process.pid) == [], "the web server or the worker outlived Ctrl+C"
        assert not _alive(postmaster), "the database server outlived Ctrl+C"
        assert not (var / "database_url").exists()

        # A second run reuses the data folder and the demo data.
        demo = Demo(dict(env, DEMO_PORT=str(_free_port())))
        assert f"Starting PostgreSQL from {var / 'postgres'}" in demo.text
        assert re.findall(r"^\s+(broker|commissioner|provider)\s+(\S+@\S+)", demo.text, flags=re.M) == logins
        _wait_for_page(demo.sign_in_url)
        assert _sign_in(demo.base, logins[0][1], password).endswith(homes[logins[0][0]])
        postmaster = int((var / "postgres" / "postmaster.pid").read_text().split()[0])
        demo.ctrl_c()
        assert _session_pids(demo.process.pid) == []
        assert not _alive(postmaster)
    finally:
        demo.kill()
        if postmaster and _alive(postmaster):
            os.kill(postmaster, signal.SIGQUIT)
