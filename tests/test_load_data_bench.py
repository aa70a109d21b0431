"""`make bench` end to end on a tiny data set in a database of its own: every benchmark answers,
the bid burst loses nothing and accepts nothing late, and each ratio is written to the JSON file."""

import json
import os
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg
import pytest
from django.conf import settings

ROOT = Path(__file__).resolve().parent.parent


def _run(bench_url: str, output: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "benchmarks.run",
            "--scale",
            "0.001",
            "--repeats",
            "3",
            "--burst",
            "60",
            "--database-url",
            bench_url,
            "--output",
            str(output),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )


@pytest.mark.bench
def test_bench_runner_end_to_end_on_a_tiny_scale(tmp_path):
    database = settings.DATABASES["default"]
    parts = urlsplit(os.environ["DATABASE_URL"])
    bench_url = urlunsplit(parts._replace(path=f"/{database['NAME']}_benchrun"))
    try:
        completed = _run(bench_url, tmp_path)
    finally:
        with psycopg.connect(urlunsplit(parts._replace(path="/postgres")), autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{database["NAME"]}_benchrun" WITH (FORCE)')
    assert completed.returncode == 0, completed.stdout[-3000:] + completed.stderr[-3000:]
    [result_file] = tmp_path.glob("bench-*.json")
    results = json.loads(result_file.read_text())
    benchmarks = results["benchmarks"]
    assert set(benchmarks) == {
        "timeliness_dashboard",
        "care_home_search",
        "api_overhead",
        "tender_close_evaluate_200_bids",
        "bid_burst",
        "cqc_import",
        "history_import",
        "api_floor",
        "urgent_referral",
        "discharge_dashboard",
    }
    assert not [name for name, figures in benchmarks.items() if "error" in figures]
    ratios = ("timeliness_dashboard", "care_home_search", "api_overhead", "cqc_import", "api_floor", "urgent_referral")
    for name in (*ratios, "discharge_dashboard"):
        assert benchmarks[name]["ratio"] > 0
    assert benchmarks["timeliness_dashboard"]["same_figures"] is True
    assert benchmarks["discharge_dashboard"]["same_figures"] is True
    assert benchmarks["care_home_search"]["same_homes"] is True
    assert benchmarks["urgent_referral"]["same_homes"] is True
    assert benchmarks["tender_close_evaluate_200_bids"]["ranked"] == 200
    burst = benchmarks["bid_burst"]
    assert burst["submitted"] == 60
    assert burst["accepted"] + burst["refused_after_deadline"] == 60
    assert burst["lost"] == 0
    assert burst["accepted_late"] == 0
    assert benchmarks["history_import"]["created"] == benchmarks["history_import"]["rows"]
    assert results["machine"]["cpus"] >= 1
    assert "Ratios:" in completed.stdout
