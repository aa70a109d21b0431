"""The two commands: the service check behind `make test`, and the demo on embedded defaults."""

import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from http.cookiejar import CookieJar
from pathlib import Path
from urllib.parse import urlencode

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


def test_make_test_refuses_sqlite():
    env = dict(os.environ, DATABASE_URL="sqlite:///tmp/x.sqlite3", REDIS_URL="redis://127.0.0.1:6379/0")
    result = subprocess.run(
        [sys.executable, "scripts/check_services.py"], cwd=ROOT, env=env, capture_output=True, text=True, check=False
    )
    assert result.returncode == 1
    assert "must point at PostgreSQL" in result.stderr


def _demo_env(tmp_path) -> dict:
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in {"DATABASE_URL", "CELERY_BROKER_URL", "REDIS_URL", "CELERY_RESULT_BACKEND", "SECRET_KEY"}
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


def test_demo_serves_sign_in_on_sqlite_and_a_filesystem_broker_and_each_login_reaches_its_home(tmp_path):
    env = _demo_env(tmp_path)
    python = str(ROOT / ".venv/bin/python")
    subprocess.run([python, "manage.py", "migrate", "--no-input", "-v0"], cwd=ROOT, env=env, check=True)
    seeded = subprocess.run(
        [python, "manage.py", "seed_demo"], cwd=ROOT, env=env, check=True, capture_output=True, text=True
    ).stdout
    logins = re.findall(r"^\s+(broker|commissioner|provider)\s+(\S+@\S+)", seeded, flags=re.M)
    assert {role for role, _ in logins} == {"broker", "commissioner", "provider"}
    password = re.search(r"password for all: (\S+)\)", seeded).group(1)
    server = subprocess.Popen(
        ["scripts/demo.sh"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    try:
        url_line = ""
        while "Open http" not in url_line:
            url_line = server.stdout.readline()
            assert url_line or server.poll() is None, "demo stopped before printing its URL"
        sign_in_url = re.search(r"(http://\S+/sign-in/)", url_line).group(1)
        base = sign_in_url.removesuffix("/sign-in/")
        deadline = time.monotonic() + 60
        while True:
            try:
                page = urllib.request.urlopen(sign_in_url).read().decode()
                break
            except OSError:
                assert time.monotonic() < deadline, "the demo server did not answer"
                time.sleep(0.3)
        assert "Sign in" in page
        homes = {"broker": "/broker/", "commissioner": "/commissioner/", "provider": "/provider/"}
        for role, email in logins:
            assert _sign_in(base, email, password).endswith(homes[role])
        health = urllib.request.urlopen(f"{base}/healthz").read().decode()
        assert '"status": "ok"' in health
        assert (tmp_path / "var" / "db.sqlite3").exists()
    finally:
        # Ctrl+C lets the worker finish its task; a test on a busy machine does not wait for long.
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait(timeout=30)
