from django.core.management.base import BaseCommand, CommandError

from core.errors import ApplicationError
from organisations.models import ApiClient, Organisation, Role
from organisations.services import api_client_create


class Command(BaseCommand):
    help = "Register an API client for an organisation's system; prints its token once."

    def add_arguments(self, parser):
        parser.add_argument("--org", required=True, help="The organisation's slug.")
        parser.add_argument("--name", required=True)
        parser.add_argument("--scopes", nargs="+", required=True, choices=ApiClient.Scope.values)
        parser.add_argument("--role", choices=Role.values, default="", help="Defaults to broker or provider.")

    def handle(self, *args, **options):
        organisation = Organisation.objects.filter(slug=options["org"]).first()
        if organisation is None:
            raise CommandError(f"No organisation with slug {options['org']!r}.")
        try:
            client, token = api_client_create(
                organisation=organisation, name=options["name"], scopes=options["scopes"], role=options["role"]
            )
        except ApplicationError as error:
            raise CommandError(error.message) from error
        self.stdout.write(
            self.style.SUCCESS(f"Created API client {client.name} ({client.key_id}) for {organisation.name}")
        )
        self.stdout.write("Token (shown once; send it as 'Authorization: Bearer <token>'):")
        self.stdout.write(token)
