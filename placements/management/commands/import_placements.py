"""Load a commissioning body's past placements from a CSV file (columns in the README)."""

from django.core.management.base import BaseCommand, CommandError

from core.errors import ApplicationError
from organisations.management.bodies import commissioning_body
from organisations.models import Organisation
from placements.history_import import HistoryImportError, placement_history_import


class Command(BaseCommand):
    help = "Import past placements from a CSV file as imported history; all rows or none."

    def add_arguments(self, parser):
        parser.add_argument("file", help="CSV file with a header row")
        parser.add_argument(
            "--commissioner",
            metavar="SLUG",
            help="Commissioning body the placements belong to (optional when there is only one)",
        )

    def handle(self, *args, file, commissioner, **options):
        body: Organisation = commissioning_body(commissioner)
        self.stdout.write(f"Importing placement history for {body.name} from {file}...")
        try:
            with open(file, newline="", encoding="utf-8-sig") as handle:
                result = placement_history_import(commissioner=body, lines=handle, progress=self.stdout.write)
        except OSError as error:
            raise CommandError(f"Cannot read {file}: {error.strerror}") from None
        except UnicodeDecodeError:
            raise CommandError(f"Nothing imported: {file} is not UTF-8 text.") from None
        except HistoryImportError as error:
            for row_error in error.errors:
                self.stderr.write(str(row_error))
            raise CommandError(error.message) from None
        except ApplicationError as error:
            raise CommandError(error.message) from None
        self.stdout.write(
            self.style.SUCCESS(
                f"{result.rows} rows: {result.created} placements imported, {result.already_imported} already imported."
            )
        )
