"""Reads of lots, lot rules and urgency rules."""

from datetime import date

from django.db.models import F, Max, Prefetch
from django.db.models.functions import Coalesce

from .models import URGENT, DpsAgreement, DpsExtensionOption, Lot, LotRules, Urgency, UrgencyRules
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


def dps_agreements_with_end():
    """DPS agreements with the current end of each term (`current_ends_on`): the latest exercised
    extension's new end, else the original end."""
    return DpsAgreement.objects.annotate(current_ends_on=Coalesce(Max("extensions__new_ends_on"), F("ends_on")))


def dps_agreements_for(*, commissioner):
    return dps_agreements_with_end().filter(commissioner=commissioner).order_by("starts_on", "pk")


def dps_agreement_list():
    """Every DPS agreement of every body, for the public register and the API: a DPS is public."""
    return (
        dps_agreements_with_end()
        .select_related("commissioner")
        .prefetch_related(
            "lots",
            "notices",
            Prefetch("extension_options", queryset=DpsExtensionOption.objects.select_related("exercised")),
            "extensions",
        )
        .order_by("commissioner__name", "starts_on", "pk")
    )


def _covers(agreement: DpsAgreement, lot) -> bool:
    numbers = {covered.number for covered in agreement.lots.all()}
    return lot is None or not numbers or lot.number in numbers


def _long(day: date) -> str:
    return f"{day:%-d %B %Y}"


def dps_term_refusal(*, commissioner, on: date, lot=None, action: str = "No call-off can be made") -> str:
    """Why nothing can be done under the body's DPS on this day (for this lot), or "" when it can.

    The one rule for applications and call-offs alike. A body that has recorded no DPS agreement
    is not held to a term; once it has one, only a day within the term of an agreement covering
    the lot (its end moved by every exercised extension) is allowed.
    """
    agreements = list(dps_agreements_for(commissioner=commissioner).prefetch_related("lots", "extension_options"))
    if not agreements:
        return ""
    covering = [agreement for agreement in agreements if _covers(agreement, lot)]
    if not covering:
        return f"{action}: lot {lot.number} is not covered by {commissioner}'s DPS."
    for agreement in covering:
        if agreement.starts_on <= on <= agreement.current_ends_on:
            return ""
    before = [agreement for agreement in covering if on < agreement.starts_on]
    nearest = before[0] if before else covering[-1]
    term = (
        f"{commissioner}'s DPS ({nearest.title}) runs from {_long(nearest.starts_on)} "
        f"to {_long(nearest.current_ends_on)}"
    )
    if nearest.current_ends_on != nearest.ends_on:
        term += f" (extended from {_long(nearest.ends_on)})"
    when = "before it starts" if before else "after it ended"
    return f"{action} on {_long(on)}, {when}: {term}."


def dps_in_term(commissioner, on: date, lot=None) -> bool:
    """Whether applications and call-offs may be made under the body's DPS on this day."""
    return dps_term_refusal(commissioner=commissioner, on=on, lot=lot) == ""
