"""Reads of lots and lot rules."""

from .models import Lot, LotRules


def lot_list():
    return Lot.objects.all()


def lot_rules_list(*, actor):
    if not (actor.is_authenticated and actor.organisation_id and actor.is_council_user):
        return LotRules.objects.none()
    return LotRules.objects.filter(commissioner_id=actor.organisation_id).select_related("lot")


def lot_rules_for(*, commissioner, lot) -> LotRules:
    return LotRules.objects.get(commissioner=commissioner, lot=lot)
