import json
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from integrations import ocds
from integrations.apis import parse_moment

BATCH = 200


class Command(BaseCommand):
    help = "Write an OCDS 1.1 release package of tenders, awards and contracts (no personal data)."

    def add_arguments(self, parser):
        parser.add_argument("--output", required=True, help="File to write the release package to.")
        parser.add_argument("--from", dest="released_from", help="Earliest release date (ISO 8601), inclusive.")
        parser.add_argument("--to", dest="released_to", help="Latest release date (ISO 8601), exclusive.")

    def handle(self, *args, **options):
        try:
            released_from = options["released_from"] and parse_moment(options["released_from"], field="from")
            released_to = options["released_to"] and parse_moment(options["released_to"], field="to")
        except Exception as error:
            raise CommandError(f"Dates must be ISO 8601: {error}") from error
        tenders = ocds.tenders_for_publication(released_from=released_from or None, released_to=released_to or None)
        total = tenders.count()
        self.stdout.write(f"Exporting the releases of {total} tenders...")
        releases = []
        for index, tender in enumerate(tenders.iterator(chunk_size=BATCH), start=1):
            releases.extend(
                ocds.releases_in_window(tender, released_from=released_from or None, released_to=released_to or None)
            )
            if index % BATCH == 0:
                self.stdout.write(f"  {index}/{total}")
        output = Path(options["output"])
        package = ocds.release_package(releases=releases, uri=f"{settings.SITE_URL.rstrip('/')}/api/v1/ocds/releases/")
        try:
            output.write_text(json.dumps(package, indent=2, ensure_ascii=False))
        except OSError as error:
            raise CommandError(f"Could not write {output}: {error}") from error
        self.stdout.write(self.style.SUCCESS(f"Wrote {len(releases)} releases to {output}"))
