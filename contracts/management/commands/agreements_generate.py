"""Generate service agreements for live placements that have none (e.g. after an import)."""

from django.core.management.base import BaseCommand, CommandError
from django.db.models import Q
from django.utils import timezone

from core.errors import ApplicationError
from organisations.models import Organisation
from placements.models import Placement

from ...services import agreement_create_for_placement


class Command(BaseCommand):
    help = "Generate the service agreement of every live placement that has none."

    def add_arguments(self, parser):
        parser.add_argument("--commissioner", help="Only this commissioning body (its slug).")

    def handle(self, *args, **options):
        today = timezone.localdate()
        placements = (
            Placement.objects.filter(care_home__isnull=False, agreements__isnull=True)
            .filter(Q(end_date__isnull=True) | Q(end_date__gte=today))
            .order_by("pk")
        )
        if slug := options.get("commissioner"):
            organisation = Organisation.objects.filter(slug=slug).first()
            if organisation is None or not organisation.is_commissioning_body:
                raise CommandError(f"No commissioning body with slug {slug!r}.")
            placements = placements.filter(commissioner=organisation)
        total = placements.count()
        self.stdout.write(f"{total} live placements have no service agreement.")
        failed = 0
        for done, placement in enumerate(placements.iterator(), start=1):
            try:
                agreement_create_for_placement(placement=placement, actor=None)
            except ApplicationError as error:
                failed += 1
                self.stderr.write(f"Placement {placement.pk}: {error.message}")
            if done % 100 == 0 or done == total:
                self.stdout.write(f"  {done}/{total}")
        if failed:
            raise CommandError(f"{failed} of {total} agreements could not be generated.")
        self.stdout.write(self.style.SUCCESS(f"Generated {total} service agreements."))
