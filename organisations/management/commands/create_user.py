from django.core.management.base import BaseCommand, CommandError

from core.errors import ApplicationError
from organisations.models import Organisation, Role
from organisations.services import user_create


class Command(BaseCommand):
    help = "Create a user of an organisation with a role; prints a one-time password to hand over."

    def add_arguments(self, parser):
        parser.add_argument("--org", required=True, help="The organisation's slug.")
        parser.add_argument("--role", required=True, choices=Role.values)
        parser.add_argument("--email", required=True)
        parser.add_argument("--name", default="", help="Full name.")

    def handle(self, *args, **options):
        organisation = Organisation.objects.filter(slug=options["org"]).first()
        if organisation is None:
            raise CommandError(f"No organisation with slug {options['org']!r}.")
        try:
            user, password = user_create(
                organisation=organisation, role=options["role"], email=options["email"], full_name=options["name"]
            )
        except ApplicationError as error:
            raise CommandError(error.message) from error
        self.stdout.write(self.style.SUCCESS(f"Created {user.get_role_display()} {user.email} of {organisation.name}"))
        self.stdout.write(f"One-time password (ask them to change it after signing in): {password}")
