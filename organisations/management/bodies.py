"""What commands that act for one commissioning body share: choosing the body from `--commissioner`."""

from django.core.management.base import CommandError

from organisations.models import Organisation

COMMISSIONING_KINDS = [Organisation.Kind.COUNCIL, Organisation.Kind.NHS]


def commissioning_body(slug: str | None) -> Organisation:
    """The body with this slug; without one, the only commissioning body there is."""
    bodies = Organisation.objects.filter(kind__in=COMMISSIONING_KINDS)
    if slug:
        try:
            return bodies.get(slug=slug)
        except Organisation.DoesNotExist:
            raise CommandError(f"No commissioning body has the slug '{slug}'.") from None
    found = list(bodies[:2])
    if len(found) != 1:
        raise CommandError("Name the commissioning body with --commissioner SLUG.")
    return found[0]
