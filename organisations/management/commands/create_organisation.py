from django.core.management.base import BaseCommand, CommandError

from core.errors import ApplicationError
from organisations.models import Organisation
from organisations.services import organisation_create


class Command(BaseCommand):
    help = "Create a commissioning body (council or NHS), a care provider or a hospital organisation."

    def add_arguments(self, parser):
        parser.add_argument("--kind", required=True, choices=Organisation.Kind.values)
        parser.add_argument("--name", required=True)
        parser.add_argument("--slug", required=True)
        parser.add_argument("--cqc-provider-id", default="", help="Care providers: the CQC provider id.")
        parser.add_argument("--local-authority", default="", help="Councils: the area served (for in-county).")
        parser.add_argument(
            "--refers-to", nargs="*", default=[], help="Hospitals: the slugs of the bodies it refers people to."
        )

    def handle(self, *args, **options):
        try:
            organisation = organisation_create(
                kind=options["kind"],
                name=options["name"],
                slug=options["slug"],
                cqc_provider_id=options["cqc_provider_id"],
                local_authority=options["local_authority"],
                refers_to=options["refers_to"],
            )
        except ApplicationError as error:
            raise CommandError(error.message) from error
        self.stdout.write(
            self.style.SUCCESS(f"Created {organisation.get_kind_display()} {organisation.name} ({organisation.slug})")
        )
