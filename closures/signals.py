"""Closures reacts to lower apps: a home the CQC import finds deregistered is closing today."""

from django.dispatch import receiver

from providers.signals import care_home_deregistered

from . import services


@receiver(care_home_deregistered, dispatch_uid="closures.closing_on_deregistration")
def closing_on_deregistration(sender, *, care_home, **kwargs) -> None:
    services.home_deregistered(care_home=care_home)
