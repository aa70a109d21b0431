#!/usr/bin/env python
"""Django's command-line utility."""

import os
import sys


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    from django.core.management import execute_from_command_line

    if sys.argv[1:2] != ["runserver"]:
        # Commands are long jobs (migrations, imports, exports, load generators): their statements
        # may run for longer than a web request's. See DATABASE_STATEMENT_TIMEOUT in the settings.
        from core.db import use_task_statement_timeout

        use_task_statement_timeout()
    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
