"""Lots' reactions to lower apps' events."""

from django.dispatch import receiver

from organisations.signals import organisation_created

from .services import lot_rules_create_defaults


@receiver(organisation_created, dispatch_uid="lots.lot_rules_for_new_commissioner")
def lot_rules_for_new_commissioner(sender, *, organisation, **kwargs) -> None:
    """A council or NHS body starts with the default rules for every lot."""
    if organisation.is_commissioning_body:
        lot_rules_create_defaults(commissioner=organisation)
