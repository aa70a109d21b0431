"""Commissioners' pages for the rules of each lot."""

from django.contrib import messages
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone

from core.csv_export import csv_response
from core.errors import ApplicationError, apply_to_form
from organisations.decorators import role_required
from organisations.models import Role

from .forms import ExtensionForm, LotRulesForm, UrgencyRulesForm
from .models import URGENT, DpsExtensionOption, Urgency
from .selectors import (
    dps_agreement_list,
    dps_in_term,
    dps_term_refusal,
    lot_rules_list,
    urgency_rules_for,
    urgency_rules_table,
)
from .services import (
    EDITABLE_FIELDS,
    URGENCY_EDITABLE_FIELDS,
    dps_extension_exercise,
    lot_rules_update,
    urgency_rules_update,
)

CSV_HEADER = ["lot", "name", *EDITABLE_FIELDS]
URGENCY_CSV_HEADER = ["lot", "name", "urgency", *URGENCY_EDITABLE_FIELDS]


@role_required(Role.COMMISSIONER, Role.BROKER)
def rules_list(request):
    rules = lot_rules_list(actor=request.user)
    if request.GET.get("format") == "csv":
        rows = ([r.lot.number, r.lot.name, *(getattr(r, f) for f in EDITABLE_FIELDS)] for r in rules)
        return csv_response("lot-rules.csv", CSV_HEADER, rows)
    urgency_rules = urgency_rules_table(actor=request.user)
    if request.GET.get("format") == "urgency-csv":
        rows = (
            [r.lot.number, r.lot.name, r.urgency, *(getattr(r, f) for f in URGENCY_EDITABLE_FIELDS)]
            for r in urgency_rules
        )
        return csv_response("urgency-rules.csv", URGENCY_CSV_HEADER, rows)
    return render(request, "lots/rules_list.html", {"rules": rules, "urgency_rules": urgency_rules})


@role_required(Role.COMMISSIONER)
def rules_edit(request, number: int):
    rules = get_object_or_404(lot_rules_list(actor=request.user), lot__number=number)
    form = LotRulesForm(request.POST or None, instance=rules)
    if request.method == "POST" and form.is_valid():
        changes = {name: form.cleaned_data[name] for name in EDITABLE_FIELDS}
        try:
            lot_rules_update(rules=rules, actor=request.user, reason=form.cleaned_data["reason"], **changes)
        except ApplicationError as error:
            apply_to_form(form, error)
        else:
            messages.success(request, f"Rules for lot {number} saved.")
            return redirect("lots:rules")
    return render(request, "lots/rules_edit.html", {"form": form, "rules": rules})


@role_required(Role.COMMISSIONER)
def urgency_rules_edit(request, number: int, urgency: str):
    lot_rules = get_object_or_404(lot_rules_list(actor=request.user), lot__number=number)
    if urgency not in URGENT:
        raise Http404("Planned requests follow the lot rules.")
    rules = urgency_rules_for(lot_rules.commissioner_id, lot_rules.lot, urgency)
    form = UrgencyRulesForm(request.POST or None, instance=rules)
    if request.method == "POST" and form.is_valid():
        changes = {name: form.cleaned_data[name] for name in URGENCY_EDITABLE_FIELDS}
        try:
            urgency_rules_update(
                lot_rules=lot_rules, urgency=urgency, actor=request.user, reason=form.cleaned_data["reason"], **changes
            )
        except ApplicationError as error:
            apply_to_form(form, error)
        else:
            messages.success(request, f"{Urgency(urgency).label} rules for lot {number} saved.")
            return redirect("lots:rules")
    return render(
        request,
        "lots/urgency_rules_edit.html",
        {"form": form, "lot_rules": lot_rules, "urgency_label": Urgency(urgency).label},
    )


def _dps_rows(agreements):
    return (
        [
            a.commissioner.name,
            a.title,
            a.reference,
            a.get_procurement_regime_display(),
            a.starts_on,
            a.ends_on,
            a.current_ends_on,
            " ".join(str(lot.number) for lot in a.lots.all()) or "all",
        ]
        for a in agreements
    )


DPS_CSV_HEADER = ["body", "title", "reference", "regime", "starts_on", "original_end", "current_end", "lots"]


@role_required(Role.COMMISSIONER, Role.BROKER)
def dps(request):
    """The body's DPS: its term, extension options and decisions, lots and notices."""
    agreements = dps_agreement_list().filter(commissioner_id=request.user.organisation_id)
    if request.GET.get("format") == "csv":
        return csv_response("dps.csv", DPS_CSV_HEADER, _dps_rows(agreements))
    today = timezone.localdate()
    context = {
        "agreements": agreements,
        "today": today,
        "in_term": dps_in_term(request.user.organisation, today),
        "refusal": dps_term_refusal(commissioner=request.user.organisation, on=today),
    }
    return render(request, "lots/dps.html", context)


@role_required(Role.COMMISSIONER)
def dps_extend(request, pk: int):
    option = get_object_or_404(
        DpsExtensionOption.objects.select_related("agreement"), pk=pk, agreement__commissioner=request.user.organisation
    )
    form = ExtensionForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            extension = dps_extension_exercise(actor=request.user, option=option, **form.cleaned_data)
        except ApplicationError as error:
            apply_to_form(form, error)
        else:
            messages.success(request, f"The DPS now runs to {extension.new_ends_on:%-d %B %Y}.")
            return redirect("lots:dps")
    return render(request, "lots/dps_extend.html", {"form": form, "option": option})


def dps_register(request):
    """Every body's DPS, for anyone: providers deciding to apply, and the public."""
    agreements = dps_agreement_list()
    if request.GET.get("format") == "csv":
        return csv_response("dps-register.csv", DPS_CSV_HEADER, _dps_rows(agreements))
    return render(request, "lots/dps_register.html", {"agreements": agreements, "today": timezone.localdate()})
