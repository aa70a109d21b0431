"""Move every nursing placement's FNC share to a national rate from its date, with progress output."""

from django.core.management.base import BaseCommand, CommandError

from ...models import FncRate
from ...services import fnc_rate_apply


class Command(BaseCommand):
    help = "Apply the national FNC rate from a date (YYYY-MM-DD) to every nursing placement with an FNC share."

    def add_arguments(self, parser):
        parser.add_argument("effective_from", help="The date the rate applies from, as entered (YYYY-MM-DD).")

    def handle(self, *args, **options):
        rate = FncRate.objects.filter(effective_from=options["effective_from"]).first()
        if rate is None:
            raise CommandError(f"No FNC rate from {options['effective_from']}: enter it first.")

        def progress(done: int, total: int) -> None:
            if done == total or done % 100 == 0:
                self.stdout.write(f"{done} of {total} nursing placements checked")

        changed = fnc_rate_apply(rate=rate, progress=progress)
        self.stdout.write(self.style.SUCCESS(f"{changed} placements follow {rate}."))
