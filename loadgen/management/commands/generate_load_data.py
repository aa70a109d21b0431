"""Build a national-scale data set for load tests and benchmarks (bulk writes, progress printed)."""

import time

from django.core.management.base import BaseCommand, CommandError
from django.db import DatabaseError

from loadgen.generator import LoadGenerator, Sizes


class Command(BaseCommand):
    help = (
        "Generate care homes, admissions, vacancies, block contracts, tenders with bids and placement "
        "history at national scale on PostgreSQL. --scale multiplies the sizes (0.01 is the CI set)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--homes", type=int, default=15000)
        parser.add_argument("--placements", type=int, default=1_000_000)
        parser.add_argument("--tenders", type=int, default=100_000)
        parser.add_argument("--bids-per-tender", type=int, default=8)
        parser.add_argument("--seed", type=int, default=1)
        parser.add_argument("--scale", type=float, default=1.0)

    def handle(self, *args, homes, placements, tenders, bids_per_tender, seed, scale, **options):
        if scale <= 0 or min(homes, placements, tenders, bids_per_tender) < 0:
            raise CommandError("Sizes and --scale must be positive.")
        sizes = Sizes.scaled(
            homes=homes, placements=placements, tenders=tenders, bids_per_tender=bids_per_tender, scale=scale
        )
        started = time.perf_counter()
        try:
            report = LoadGenerator(sizes, seed=seed, progress=self.stdout.write).run()
        except (ValueError, DatabaseError) as error:
            raise CommandError(f"Load data not complete: {error}") from error
        rows = sum(report.counts.values())
        elapsed = time.perf_counter() - started
        self.stdout.write(self.style.SUCCESS(f"Done: {rows:,} rows in {elapsed:.1f} s ({rows / elapsed:,.0f} rows/s)."))
