"""Writes to lot rules."""

from django.core.exceptions import ValidationError
from django.db import transaction

from core.audit import audit_record
from core.errors import ApplicationError
from organisations.permissions import is_commissioner, require

from .models import URGENT, Lot, LotRules, UrgencyRules
from .reference import DEFAULT_GUIDE_FEES
from .selectors import urgency_rules_for

EDITABLE_FIELDS = (
    "target_days",
    "quality_weight",
    "price_weight",
    "guide_weekly_fee",
    "default_window_hours",
    "min_window_hours",
    "max_window_hours",
    "not_yet_rated_score",
    "admission_mode",
)


def lot_rules_create_defaults(*, commissioner) -> list[LotRules]:
    existing = set(LotRules.objects.filter(commissioner=commissioner).values_list("lot_id", flat=True))
    return LotRules.objects.bulk_create(
        LotRules(commissioner=commissioner, lot=lot, guide_weekly_fee=DEFAULT_GUIDE_FEES[lot.number])
        for lot in Lot.objects.exclude(pk__in=existing)
    )


@transaction.atomic
def lot_rules_update(*, rules: LotRules, actor, reason: str = "", **changes) -> LotRules:
    require(is_commissioner(actor) and actor.organisation_id == rules.commissioner_id)
    unknown = set(changes) - set(EDITABLE_FIELDS)
    if unknown:
        raise ApplicationError(f"Cannot change {', '.join(sorted(unknown))}.")
    rules = LotRules.objects.select_for_update().get(pk=rules.pk)
    before = {name: str(getattr(rules, name)) for name in changes}
    for name, value in changes.items():
        setattr(rules, name, value)
    try:
        rules.full_clean()
    except ValidationError as exc:
        raise ApplicationError("The lot rules are not valid.", fields=exc.message_dict) from exc
    rules.save()
    audit_record(
        actor=actor,
        verb="lots.rules.updated",
        target=rules,
        organisation=rules.commissioner,
        reason=reason,
        detail={"before": before, "after": {name: str(getattr(rules, name)) for name in changes}},
    )
    return rules


URGENCY_EDITABLE_FIELDS = (
    "target_hours",
    "min_window_hours",
    "default_window_hours",
    "max_window_hours",
    "award_rule",
    "assessment_days",
    "vacancy_fresh_hours",
    "reminder_minutes_before_close",
)


@transaction.atomic
def urgency_rules_update(*, lot_rules: LotRules, urgency: str, actor, reason: str = "", **changes) -> UrgencyRules:
    """A commissioner sets the rules one lot follows for one kind of urgent request; the first save
    replaces the defaults (`urgency_rules_for`)."""
    require(is_commissioner(actor) and actor.organisation_id == lot_rules.commissioner_id)
    if urgency not in URGENT:
        raise ApplicationError(
            "Planned requests follow the lot rules; urgency rules are for urgent requests.",
            fields={"urgency": "Choose hospital discharge or urgent community."},
        )
    unknown = set(changes) - set(URGENCY_EDITABLE_FIELDS)
    if unknown:
        raise ApplicationError(f"Cannot change {', '.join(sorted(unknown))}.")
    lot_rules = LotRules.objects.select_for_update().select_related("lot").get(pk=lot_rules.pk)
    rules = UrgencyRules.objects.filter(lot_rules=lot_rules, urgency=urgency).first()
    if rules is None:
        rules = urgency_rules_for(lot_rules.commissioner_id, lot_rules.lot, urgency)
    before = {name: str(getattr(rules, name)) for name in changes} if rules.pk else {}
    for name, value in changes.items():
        setattr(rules, name, value)
    try:
        rules.full_clean(exclude=["lot_rules"])
    except ValidationError as exc:
        raise ApplicationError("The urgency rules are not valid.", fields=exc.message_dict) from exc
    rules.save()
    audit_record(
        actor=actor,
        verb="lots.urgency_rules.updated",
        target=lot_rules,
        organisation=lot_rules.commissioner,
        reason=reason,
        detail={
            "urgency": urgency,
            "before": before,
            "after": {name: str(getattr(rules, name)) for name in changes},
        },
    )
    return rules
