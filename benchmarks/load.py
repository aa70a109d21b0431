"""`make load`: the Locust scenario (benchmarks/locustfile.py) against gunicorn and real Celery
workers on loopback, over generated data in a database of its own, bounded in users and time.

    make load                                  # CI size, 20 users for 60 s
    make load LOAD_SCALE=1 LOAD_USERS=50 LOAD_SECONDS=120

Prints, per operation: requests, throughput, p50/p95/p99 and errors, then stops what it started.
"""

import argparse
import csv
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent


def parse(argv):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=float(os.environ.get("LOAD_SCALE", "0.01")))
    parser.add_argument("--users", type=int, default=int(os.environ.get("LOAD_USERS", "20")))
    parser.add_argument("--seconds", type=int, default=int(os.environ.get("LOAD_SECONDS", "60")))
    parser.add_argument(
        "--database-url",
        default=os.environ.get("LOAD_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/carehomes_loaddata"),
    )
    parser.add_argument("--redis-url", default=os.environ.get("LOAD_REDIS_URL", "redis://127.0.0.1:6379/11"))
    parser.add_argument("--web-workers", type=int, default=2 * (os.cpu_count() or 1))
    return parser.parse_args(argv)


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def prepare(options) -> dict:
    """Generate the data, then the API clients and open tenders the scenario uses."""
    from django.core.management import call_command
    from django.utils import timezone

    from benchmarks.cases import _client_for, bench_homes, bench_tender, busiest_council
    from core.db import use_task_statement_timeout
    from lots.models import Lot
    from organisations.models import Role
    from providers.models import CareHome

    from .run import recreate_database

    recreate_database(options.database_url)
    use_task_statement_timeout()
    call_command("migrate", verbosity=0)
    call_command("generate_load_data", scale=options.scale, seed=1)
    council = busiest_council()
    lot = Lot.objects.get(number=1)
    homes = bench_homes(council=council, lot=lot, count=200, per_provider=10, tag="load")
    tokens = {}
    for home in homes:
        if home.provider_id not in tokens:
            tokens[home.provider_id] = _client_for(home.provider, ["read", "bids", "vacancies"])[1]
    closes_at = timezone.now() + timedelta(hours=2)
    tenders = [bench_tender(council=council, lot=lot, homes=homes[i::10], closes_at=closes_at) for i in range(10)]
    centre = CareHome.objects.filter(admissions__commissioner=council).values_list("latitude", "longitude").first()
    return {
        "broker": _client_for(council, ["read", "placement-requests"], role=Role.BROKER)[1],
        "commissioner": _client_for(council, ["read", "dashboards"], role=Role.COMMISSIONER)[1],
        "system": _client_for(council, ["read", "placement-requests"])[1],
        "centre": [float(centre[0]), float(centre[1])],
        "bids": [
            [tender.pk, home.pk, tokens[home.provider_id]]
            for index, tender in enumerate(tenders)
            for home in homes[index::10]
        ],
        "vacancies": [[home.pk, tokens[home.provider_id]] for home in homes],
    }


def _start(command, env, log):
    return subprocess.Popen(  # noqa: S603
        command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
    )


def _stop(process):
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)


def _wait_up(url: str, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(f"{url}/health/ready", timeout=5)  # noqa: S310
            return
        except OSError:
            time.sleep(0.5)
    raise RuntimeError(f"{url} was not ready in time")


def report(stats_csv: Path, seconds: int, users: int) -> list[dict]:
    rows = list(csv.DictReader(stats_csv.open()))
    table = []
    for row in rows:
        table.append(
            {
                "operation": row["Name"],
                "requests": int(row["Request Count"]),
                "errors": int(row["Failure Count"]),
                "per_second": round(float(row["Requests/s"]), 1),
                "p50_ms": row["50%"],
                "p95_ms": row["95%"],
                "p99_ms": row["99%"],
            }
        )
    print(f"\n{users} users for {seconds} s\n")
    print(f"{'operation':34} {'requests':>8} {'errors':>6} {'req/s':>7} {'p50 ms':>7} {'p95 ms':>7} {'p99 ms':>7}")
    for line in table:
        print(
            f"{line['operation']:34} {line['requests']:>8} {line['errors']:>6} {line['per_second']:>7} "
            f"{line['p50_ms']:>7} {line['p95_ms']:>7} {line['p99_ms']:>7}"
        )
    return table


def main(argv=None) -> int:
    options = parse(sys.argv[1:] if argv is None else argv)
    env = {
        **os.environ,
        "DATABASE_URL": options.database_url,
        "REDIS_URL": options.redis_url,
        "CELERY_BROKER_URL": options.redis_url,
        "CELERY_RESULT_BACKEND": "",
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "DEBUG": "false",
        "SECRET_KEY": os.environ.get("SECRET_KEY", "load-runs-only-not-a-secret"),
        "SECURE_SSL_REDIRECT": "false",
        "EMAIL_BACKEND": "django.core.mail.backends.locmem.EmailBackend",
        "LOG_LEVEL": "WARNING",
    }
    os.environ.update(env)
    import django

    django.setup()
    print(f"Load at scale {options.scale} on {urlsplit(options.database_url).path.lstrip('/')}", flush=True)
    scenario = prepare(options)
    work = Path(tempfile.mkdtemp(prefix="carehomes-load-"))
    (work / "scenario.json").write_text(json.dumps(scenario))
    env = {**env, "VAR_DIR": str(work), "LOAD_SCENARIO": str(work / "scenario.json")}
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    log = (work / "servers.log").open("w")
    processes = []
    try:
        processes.append(
            _start(
                [
                    str(BIN / "gunicorn"),
                    "config.wsgi",
                    "-c",
                    str(ROOT / "config" / "gunicorn.conf.py"),
                    "--bind",
                    f"127.0.0.1:{port}",
                    "--workers",
                    str(options.web_workers),
                ],
                env,
                log,
            )
        )
        processes.append(_start([str(BIN / "celery"), "-A", "config", "worker", "-l", "WARNING"], env, log))
        processes.append(
            _start([str(BIN / "celery"), "-A", "config", "beat", "-l", "WARNING", "-s", str(work / "beat")], env, log)
        )
        _wait_up(url, 180)
        locust = subprocess.run(  # noqa: S603
            [
                str(BIN / "locust"),
                "-f",
                str(ROOT / "benchmarks" / "locustfile.py"),
                "--headless",
                "-u",
                str(options.users),
                "-r",
                str(max(1, options.users // 5)),
                "-t",
                f"{options.seconds}s",
                "--host",
                url,
                "--csv",
                str(work / "load"),
                "--only-summary",
                "--loglevel",
                "WARNING",
            ],
            cwd=ROOT,
            env=env,
            check=False,
        )
    finally:
        for process in reversed(processes):
            _stop(process)
        log.close()
    table = report(work / "load_stats.csv", options.seconds, options.users)
    out = ROOT / "bench-results"
    out.mkdir(exist_ok=True)
    (out / f"load-{time.strftime('%Y%m%dT%H%M%SZ', time.gmtime())}-scale{options.scale}.json").write_text(
        json.dumps(
            {"users": options.users, "seconds": options.seconds, "scale": options.scale, "table": table}, indent=2
        )
    )
    shutil.rmtree(work, ignore_errors=True)
    errors = sum(line["errors"] for line in table)
    return 0 if locust.returncode in (0, 1) and errors == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
