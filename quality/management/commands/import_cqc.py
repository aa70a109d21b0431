"""Import CQC data: location records (files or the API) and the care directory ratings."""

from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from quality.cqc import (
    CqcApi,
    CqcRecordError,
    CqcSourceError,
    directory_ratings,
    read_directory_rows,
    read_location_records,
)
from quality.models import Rating
from quality.services import ImportReport, cqc_directory_rating_import, cqc_locations_import


class Command(BaseCommand):
    help = (
        "Import CQC care homes and ratings from --locations (JSON array, JSON Lines or a folder of .json), "
        "--ratings (the care directory with ratings, .ods or .csv) or --api (needs CQC_API_KEY)."
    )

    def add_arguments(self, parser):
        source = parser.add_mutually_exclusive_group(required=True)
        source.add_argument("--locations", type=Path, help="Location records as the CQC API returns them.")
        source.add_argument("--ratings", type=Path, help="The care directory with ratings (.ods or .csv).")
        source.add_argument("--api", action="store_true", help="Every care home location from the CQC API.")

    def handle(self, *args, **options):
        try:
            if options["locations"]:
                report = self._locations(options["locations"])
            elif options["ratings"]:
                report = self._ratings(options["ratings"])
            else:
                report = self._api()
        except CqcSourceError as error:
            raise CommandError(f"Nothing imported: {error}") from error
        self._summarise(report)

    def _progress(self, number: int, report: ImportReport) -> None:
        self.stdout.write(f"  {number} records read, {len(report.errors)} with errors")

    def _locations(self, path: Path) -> ImportReport:
        self.stdout.write(f"Importing CQC locations from {path}...")
        return cqc_locations_import(
            records=read_location_records(path), source=Rating.Source.CQC_API, progress=self._progress
        )

    def _api(self) -> ImportReport:
        api = CqcApi(api_key=settings.CQC_API_KEY, base_url=settings.CQC_API_BASE_URL)
        self.stdout.write("Importing care home locations from the CQC API...")
        return cqc_locations_import(records=_api_records(api), progress=self._progress)

    def _ratings(self, path: Path) -> ImportReport:
        self.stdout.write(f"Importing ratings from the care directory {path}...")
        ratings, errors = directory_ratings(read_directory_rows(path))
        report = ImportReport(errors=list(errors))
        for number, item in enumerate(ratings, start=1):
            report.counts[cqc_directory_rating_import(location_id=item.location_id, rating=item.rating).value] += 1
            if number % 500 == 0:
                self._progress(number, report)
        return report

    def _summarise(self, report: ImportReport) -> None:
        for error in report.errors:
            self.stderr.write(f"  skipped {error.record_id}: {error.reason}")
        counts = ", ".join(f"{count} {name}" for name, count in report.counts.items())
        self.stdout.write(f"Done: {counts}; {len(report.errors)} with errors.")
        if report.read == 0:
            raise CommandError("Nothing could be read: every record had an error." if report.errors else "No records.")


def _api_records(api: CqcApi):
    for location_id in api.care_home_location_ids():
        try:
            yield api.location(location_id)
        except CqcRecordError as error:
            yield error
