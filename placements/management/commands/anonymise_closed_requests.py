"""Anonymise closed placement requests kept past the personal data retention period."""

from datetime import timedelta

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from placements.services import closed_requests_anonymise, closed_requests_past_retention


class Command(BaseCommand):
    help = "Replace the case reference and needs of requests closed longer ago than PERSONAL_DATA_RETENTION_DAYS."

    def add_arguments(self, parser):
        parser.add_argument("--days", type=int, default=None, help="Override the retention period in days.")
        parser.add_argument("--batch-size", type=int, default=200)

    def handle(self, *args, days, batch_size, **options):
        days = settings.PERSONAL_DATA_RETENTION_DAYS if days is None else days
        if days < 1 or batch_size < 1:
            raise CommandError("The retention period and batch size must be at least 1.")
        older_than = timedelta(days=days)
        due = closed_requests_past_retention(older_than=older_than).count()
        self.stdout.write(f"{due} closed requests older than {days} days to anonymise.")
        done = closed_requests_anonymise(
            older_than=older_than,
            batch_size=batch_size,
            progress=lambda n: self.stdout.write(f"Anonymised {n} of {due}."),
        )
        self.stdout.write(self.style.SUCCESS(f"Done: {done} requests anonymised."))
