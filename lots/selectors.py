"""Reads of lots, lot rules and urgency rules."""

from .models import URGENT, Lot, LotRules, Urgency, UrgencyRules
from .reference import DEFAULT_URGENCY_RULES


def lot_list():
    return Lot.objects.all()


def lot_rules_list(*, actor):
    if not (actor.is_authenticated and actor.organisation_id and actor.is_council_user):
        return LotRules.objects.none()
    return LotRules.objects.filter(commissioner_id=actor.organisation_id).select_related("lot")


def lot_rules_for(*, commissioner, lot) -> LotRules:
    return LotRules.objects.get(commissioner=commissioner, lot=lot)


def _urgency_rules_default(lot_rules: LotRules, urgency: str) -> UrgencyRules:
    """The rule a lot follows for an urgency with nothing saved. Planned requests keep the lot
    rules' days: their target in hours is the target days', their window the lot's."""
    if urgency == Urgency.PLANNED:
        return UrgencyRules(
            lot_rules=lot_rules,
            urgency=urgency,
            target_hours=lot_rules.target_days * 24,
            min_window_hours=lot_rules.min_window_hours,
            default_window_hours=lot_rules.default_window_hours,
            max_window_hours=lot_rules.max_window_hours,
        )
    return UrgencyRules(lot_rules=lot_rules, urgency=urgency, **DEFAULT_URGENCY_RULES[urgency])


def urgency_rules_for(commissioner, lot, urgency) -> UrgencyRules:
    """The rules a request of this body, lot and urgency follows: always a rule (unsaved defaults when
    the body has saved none; planned requests follow the lot rules in days)."""
    lot_rules = LotRules.objects.select_related("lot").get(commissioner=commissioner, lot=lot)
    if urgency != Urgency.PLANNED:
        saved = UrgencyRules.objects.filter(lot_rules=lot_rules, urgency=urgency).first()
        if saved is not None:
            saved.lot_rules = lot_rules
            return saved
    return _urgency_rules_default(lot_rules, urgency)


def urgency_rules_table(*, actor) -> list[UrgencyRules]:
    """Every lot's rules for each urgent kind of request, saved or default, for the lot rules page:
    two queries however many lots."""
    lot_rules = list(lot_rules_list(actor=actor))
    saved = {
        (rule.lot_rules_id, rule.urgency): rule
        for rule in UrgencyRules.objects.filter(lot_rules__in=[r.pk for r in lot_rules])
    }
    table = []
    for rules in lot_rules:
        for urgency in URGENT:
            rule = saved.get((rules.pk, urgency)) or _urgency_rules_default(rules, urgency)
            rule.lot_rules = rules
            table.append(rule)
    return table
