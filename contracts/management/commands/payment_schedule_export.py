"""Write a payment schedule as the finance CSV (the layout is in the README)."""

import sys

from django.core.management.base import BaseCommand, CommandError

from core.csv_export import csv_writer
from core.errors import ApplicationError
from organisations.models import Organisation

from ...payments import CSV_HEADER, csv_rows, payment_schedule_build, period_parse


class Command(BaseCommand):
    help = "Export one commissioning body's payment schedule for a period as CSV."

    def add_arguments(self, parser):
        parser.add_argument("commissioner", help="The commissioning body's slug.")
        parser.add_argument("period", help="An ISO week (2026-W15) or four weeks from one (2026-W15/4).")
        parser.add_argument("--output", help="File to write; standard output when left out.")

    def handle(self, *args, **options):
        organisation = Organisation.objects.filter(slug=options["commissioner"]).first()
        if organisation is None or not organisation.is_commissioning_body:
            raise CommandError(f"No commissioning body with slug {options['commissioner']!r}.")
        try:
            period = period_parse(options["period"])
        except ApplicationError as error:
            raise CommandError(error.message) from error
        schedule = payment_schedule_build(period=period, commissioner_id=organisation.pk)
        output = open(options["output"], "w", newline="") if options["output"] else sys.stdout  # noqa: SIM115
        try:
            writer = csv_writer(output)
            writer.writerow(CSV_HEADER)
            writer.writerows(csv_rows(schedule))
        finally:
            if output is not sys.stdout:
                output.close()
        self.stderr.write(
            f"{len(schedule.lines)} lines for {period.start} to {period.end}: "
            f"council {schedule.totals.council}, top-ups {schedule.totals.top_up}, total {schedule.totals.gross}."
        )
