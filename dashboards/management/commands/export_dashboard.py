"""Write a dashboard to stdout as CSV or JSON, for scheduled reporting."""

import json

from django.core.management.base import BaseCommand, CommandError

from core.csv_export import csv_writer
from dashboards.registry import DASHBOARDS, dashboard_run
from organisations.management.bodies import commissioning_body


class Command(BaseCommand):
    help = "Write one dashboard's figures to stdout (the JSON is the same as the API's)."

    def add_arguments(self, parser):
        parser.add_argument("name", choices=sorted(DASHBOARDS), help="Which dashboard")
        parser.add_argument("--from", dest="from", metavar="YYYY-MM", help="First month")
        parser.add_argument("--to", dest="to", metavar="YYYY-MM", help="Last month")
        parser.add_argument("--at", metavar="YYYY-MM-DD", help="Day for placements active on a date")
        parser.add_argument("--within-days", dest="within_days", type=int, help="At-risk requests: days to target")
        parser.add_argument("--urgency", help="Timeliness: only requests of this urgency")
        parser.add_argument("--format", choices=["csv", "json"], default="csv")
        parser.add_argument("--commissioner", metavar="SLUG", help="Commissioning body (optional when only one)")

    def handle(self, *args, **options):
        dashboard = DASHBOARDS[options["name"]]
        commissioner = commissioning_body(options["commissioner"])
        data = {
            key: options[key] for key in ("from", "to", "at", "within_days", "urgency") if options.get(key) is not None
        }
        unused = set(data) - set(dashboard.form_class().fields)
        if unused:
            raise CommandError(f"{dashboard.name} takes no {', '.join('--' + name for name in sorted(unused))}.")
        # Progress goes to stderr, so stdout stays the CSV or JSON alone.
        self.stderr.write(f"Computing {dashboard.title} for {commissioner.name}...")
        form, report = dashboard_run(dashboard, commissioner=commissioner, data=data)
        if report is None:
            problems = "; ".join(f"{name}: {' '.join(messages)}" for name, messages in form.errors.items())
            raise CommandError(problems)
        if options["format"] == "json":
            self.stdout.write(json.dumps(report.as_json(), indent=2))
            self.stderr.write("Written as JSON.")
            return
        writer = csv_writer(self.stdout, lineterminator="\n")
        writer.writerow(report.csv_header())
        rows = 0
        for row in report.csv_rows():
            writer.writerow(row)
            rows += 1
        self.stderr.write(f"Written: {rows} rows.")
