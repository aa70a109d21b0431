"""Load the postcode directory from the ONS Postcode Directory or OS Code-Point Open."""

from django.core.management.base import BaseCommand, CommandError

from providers.postcode_import import FORMATS, PostcodeImportError, postcode_directory_import
from providers.postcodes import care_homes_locate


class Command(BaseCommand):
    help = (
        "Import postcodes with their latitude and longitude from an ONSPD CSV file (or its zip), or from "
        "Code-Point Open's CSV folder or zip. Importing again updates what changed."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", help="ONSPD CSV file or zip; Code-Point Open folder, zip or CSV file")
        parser.add_argument(
            "--format", choices=["auto", *FORMATS], default="auto", help="Which directory the file is (default: auto)"
        )
        parser.add_argument(
            "--fill-care-homes",
            action="store_true",
            help="Then give care homes without coordinates the point of their postcode",
        )

    def handle(self, *args, file, format, fill_care_homes, **options):
        self.stdout.write(f"Importing postcodes from {file}...")
        try:
            result = postcode_directory_import(path=file, format=format, progress=self.stdout.write)
        except PostcodeImportError as error:
            raise CommandError(error.message) from None
        for row_error in result.errors:
            self.stderr.write(str(row_error))
        if result.bad_rows > len(result.errors):
            self.stderr.write(f"... and {result.bad_rows - len(result.errors)} more bad rows.")
        self.stdout.write(
            self.style.SUCCESS(
                f"{result.format}: {result.rows} rows in {result.files} file{'s' if result.files != 1 else ''}: "
                f"{result.created} postcodes added, {result.updated} updated, {result.unchanged} unchanged; "
                f"{result.without_coordinates} without coordinates and {result.bad_rows} bad rows left out."
            )
        )
        if fill_care_homes:
            located = care_homes_locate()
            self.stdout.write(f"{located} care homes without coordinates placed by their postcode.")
