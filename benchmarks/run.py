"""Run every benchmark on a freshly generated data set and write the figures as JSON.

    python -m benchmarks.run [--scale 0.01] [--database-url URL] [--output DIR]

The data set lives in its own database (created if missing, emptied, migrated, then loaded),
so benchmarks never touch the database people develop or test against.
"""

import argparse
import json
import os
import platform
import sys
import time
import traceback
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/carehomes_benchdata"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/10"


def parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=float(os.environ.get("BENCH_SCALE", "0.01")))
    parser.add_argument("--database-url", default=os.environ.get("BENCH_DATABASE_URL", DEFAULT_DATABASE_URL))
    parser.add_argument(
        "--redis-url", default=os.environ.get("BENCH_REDIS_URL") or os.environ.get("REDIS_URL") or DEFAULT_REDIS_URL
    )
    parser.add_argument("--output", type=Path, default=Path("bench-results"))
    parser.add_argument("--repeats", type=int, default=15)
    parser.add_argument("--burst", type=int, default=500, help="Concurrent bid submissions")
    parser.add_argument("--only", nargs="*", default=None, help="Run only these benchmarks")
    parser.add_argument("--seed", type=int, default=1)
    return parser.parse_args(argv)


def recreate_database(url: str) -> None:
    import psycopg

    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    admin = urlunsplit(parts._replace(path="/postgres"))
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


def machine() -> dict:
    memory = ""
    try:
        with open("/proc/meminfo") as handle:
            memory = handle.readline().split(":")[1].strip()
    except OSError:
        pass
    return {
        "cpus": os.cpu_count(),
        "memory": memory,
        "python": platform.python_version(),
        "platform": platform.platform(),
    }


def main(argv: list[str] | None = None) -> int:
    options = parse(sys.argv[1:] if argv is None else argv)
    os.environ["DATABASE_URL"] = options.database_url
    os.environ["REDIS_URL"] = options.redis_url
    os.environ["CELERY_BROKER_URL"] = options.redis_url
    os.environ["CELERY_RESULT_BACKEND"] = options.redis_url
    os.environ["DJANGO_SETTINGS_MODULE"] = "benchmarks.settings"
    os.environ.setdefault("SECRET_KEY", "benchmark-runs-only-not-a-secret")
    os.environ["DEBUG"] = "false"
    os.environ["SECURE_SSL_REDIRECT"] = "false"
    os.environ["EMAIL_BACKEND"] = "django.core.mail.backends.locmem.EmailBackend"
    # The budget is per client per minute; a benchmark's repeats would otherwise be refused.
    os.environ["API_THROTTLE_RATE_CLIENT"] = "100000/min"
    # A log line per request would bury the figures; warnings and errors still show.
    os.environ.setdefault("LOG_LEVEL", "WARNING")

    print(f"Benchmarks at scale {options.scale} on {urlsplit(options.database_url).path.lstrip('/')}", flush=True)
    recreate_database(options.database_url)

    import django

    django.setup()
    from django.core.management import call_command

    from core.db import use_task_statement_timeout
    from loadgen.generator import Sizes

    from .cases import BENCHMARKS, Context

    # Loading a national-size data set is a long job, like a management command.
    use_task_statement_timeout()
    started = time.perf_counter()
    call_command("migrate", verbosity=0)
    call_command("generate_load_data", scale=options.scale, seed=options.seed)
    load_seconds = round(time.perf_counter() - started, 1)
    sizes = Sizes.scaled(homes=15000, placements=1_000_000, tenders=100_000, bids_per_tender=8, scale=options.scale)
    context = Context(
        scale=options.scale,
        repeats=options.repeats,
        burst=options.burst,
        homes=sizes.homes,
        placements=sizes.placements,
        output=options.output,
    )
    results = {
        "ran_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "scale": options.scale,
        "sizes": sizes.__dict__,
        "machine": machine(),
        "load_seconds": load_seconds,
        "benchmarks": {},
    }
    failed = []
    for name, bench in BENCHMARKS:
        if options.only and name not in options.only:
            continue
        print(f"\n== {name}", flush=True)
        try:
            result = bench(context)
        except Exception as error:
            traceback.print_exc()
            result = {"error": f"{type(error).__name__}: {error}"}
            failed.append(name)
        results["benchmarks"][name] = result
        for key, value in result.items():
            print(f"  {key}: {value}", flush=True)

    options.output.mkdir(parents=True, exist_ok=True)
    path = options.output / f"bench-{datetime.now(UTC):%Y%m%dT%H%M%SZ}-scale{options.scale}.json"
    path.write_text(json.dumps(results, indent=2, default=str) + "\n")
    print(f"\nResults written to {path}")
    summary = [
        f"  {name}: ratio {r['ratio']} (target {r.get('target', '-')}) {r.get('verdict', '')}"
        for name, r in results["benchmarks"].items()
        if "ratio" in r
    ]
    print("\n".join(["Ratios:", *summary]))
    burst = results["benchmarks"].get("bid_burst", {})
    if burst.get("lost") or burst.get("accepted_late") or burst.get("received_before_deadline_but_refused"):
        failed.append("bid_burst (lost, late, or received in time but refused)")
    if failed:
        print(f"Failed: {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
