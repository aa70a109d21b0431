"""Writes to lot rules."""

import calendar
from datetime import date

from django.core.exceptions import ValidationError
from django.db import transaction

from core.audit import audit_record
from core.errors import ApplicationError, ConflictError
from organisations.permissions import is_commissioner, require

from .models import URGENT, DpsAgreement, DpsExtension, DpsExtensionOption, DpsNotice, Lot, LotRules, UrgencyRules
from .reference import DEFAULT_GUIDE_FEES
from .selectors import dps_term_refusal, urgency_rules_for

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


def dps_term_require(*, commissioner, on: date, lot=None, action: str, field: str = "") -> None:
    """Refuse what is being done under the body's DPS outside its term, naming the dates."""
    message = dps_term_refusal(commissioner=commissioner, on=on, lot=lot, action=action)
    if message:
        raise ConflictError(message, code="outside_dps_term", fields={field: message} if field else None)


@transaction.atomic
def dps_agreement_create(
    *,
    commissioner,
    title: str,
    procurement_regime: str,
    starts_on: date,
    ends_on: date,
    lots: list[Lot] | None = None,
    extension_options: list[tuple[int, date]] = (),
    reference: str = "",
    maximum_term_ends_on: date | None = None,
    actor=None,
) -> DpsAgreement:
    """Record a body's DPS (back office or set-up): its term, lots and extension options."""
    if not commissioner.is_commissioning_body:
        raise ApplicationError("Only a council or NHS body runs a DPS.", code="not_commissioner")
    if ends_on < starts_on:
        raise ApplicationError(
            "The term must end on or after the day it starts.",
            code="term_backwards",
            fields={"ends_on": "Must be on or after the start."},
        )
    agreement = DpsAgreement.objects.create(
        commissioner=commissioner,
        title=title,
        reference=reference,
        procurement_regime=procurement_regime,
        starts_on=starts_on,
        ends_on=ends_on,
        maximum_term_ends_on=maximum_term_ends_on,
    )
    agreement.lots.set(lots or [])
    DpsExtensionOption.objects.bulk_create(
        DpsExtensionOption(agreement=agreement, months=months, decide_by=decide_by)
        for months, decide_by in extension_options
    )
    audit_record(
        actor=actor,
        verb="lots.dps.recorded",
        target=agreement,
        organisation=commissioner,
        detail={"starts_on": starts_on.isoformat(), "ends_on": ends_on.isoformat()},
    )
    return agreement


def _add_months(day: date, months: int) -> date:
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


@transaction.atomic
def dps_extension_exercise(
    *, actor, option: DpsExtensionOption, decision_reference: str, decided_on: date
) -> DpsExtension:
    """Exercise an extension option: the term's end moves on by the option's months.

    Options run in order, each from the current end; each is exercised once, by its decision date,
    and never past the agreement's maximum term.
    """
    agreement = DpsAgreement.objects.select_for_update().get(pk=option.agreement_id)
    require(is_commissioner(actor) and actor.organisation_id == agreement.commissioner_id)
    errors = {}
    if not decision_reference.strip():
        errors["decision_reference"] = "Enter the reference of the decision to extend."
    if decided_on > option.decide_by:
        errors["decided_on"] = f"This option had to be decided by {option.decide_by:%-d %B %Y}."
    if errors:
        raise ApplicationError("The extension cannot be recorded.", code="extension_invalid", fields=errors)
    if DpsExtension.objects.filter(option=option).exists():
        raise ConflictError("This extension option has been exercised already.", code="extension_exercised")
    current_end = max([agreement.ends_on, *agreement.extensions.values_list("new_ends_on", flat=True)])
    new_end = _add_months(current_end, option.months)
    if agreement.maximum_term_ends_on and new_end > agreement.maximum_term_ends_on:
        raise ConflictError(
            f"Extending to {new_end:%-d %B %Y} would pass the DPS's maximum term, "
            f"which ends on {agreement.maximum_term_ends_on:%-d %B %Y}.",
            code="past_maximum_term",
        )
    extension = DpsExtension.objects.create(
        agreement=agreement,
        option=option,
        decision_reference=decision_reference.strip(),
        decided_on=decided_on,
        new_ends_on=new_end,
        recorded_by=actor,
    )
    audit_record(
        actor=actor,
        verb="lots.dps.extended",
        target=agreement,
        organisation=agreement.commissioner,
        reason=decision_reference.strip(),
        detail={"from": current_end.isoformat(), "to": new_end.isoformat(), "months": option.months},
    )
    return extension


@transaction.atomic
def dps_notice_add(*, actor, agreement: DpsAgreement, kind: str, reference: str, url: str, published_on: date):
    require(is_commissioner(actor) and actor.organisation_id == agreement.commissioner_id)
    notice = DpsNotice.objects.create(
        agreement=agreement, kind=kind, reference=reference.strip(), url=url.strip(), published_on=published_on
    )
    audit_record(
        actor=actor,
        verb="lots.dps.notice_added",
        target=agreement,
        organisation=agreement.commissioner,
        detail={"reference": notice.reference, "url": notice.url},
    )
    return notice
