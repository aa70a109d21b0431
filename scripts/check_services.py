"""Refuse to run the test suite unless PostgreSQL and Redis answer; say how to start them."""

import os
import sys
from urllib.parse import urlparse

import psycopg
import redis

HOW_TO_START = "Start them with: docker compose up -d db redis"


def main() -> int:
    database_url = os.environ["DATABASE_URL"]
    redis_url = os.environ["REDIS_URL"]
    problems = []
    parsed = urlparse(database_url)
    if parsed.scheme not in ("postgres", "postgresql", "pgsql"):
        problems.append(f"DATABASE_URL must point at PostgreSQL for the tests, not {parsed.scheme!r}.")
    else:
        try:
            psycopg.connect(database_url.rsplit("/", 1)[0] + "/postgres", connect_timeout=3).close()
        except psycopg.Error as exc:
            problems.append(
                f"PostgreSQL is not reachable at {parsed.hostname}:{parsed.port or 5432} ({exc.__class__.__name__})."
            )
    try:
        redis.Redis.from_url(redis_url, socket_connect_timeout=3).ping()
    except redis.RedisError as exc:
        problems.append(f"Redis is not reachable at {redis_url} ({exc.__class__.__name__}).")
    if problems:
        for problem in problems:
            print(f"error: {problem}", file=sys.stderr)
        print(f"error: the tests need real PostgreSQL and Redis. {HOW_TO_START}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
