"""Commissioners' pages for the rules of each lot."""

from django.contrib import messages
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render

from core.csv_export import csv_response
from core.errors import ApplicationError, apply_to_form
from organisations.decorators import role_required
from organisations.models import Role

from .forms import LotRulesForm, UrgencyRulesForm
from .models import URGENT, Urgency
from .selectors import lot_rules_list, urgency_rules_for, urgency_rules_table
from .services import EDITABLE_FIELDS, URGENCY_EDITABLE_FIELDS, lot_rules_update, urgency_rules_update

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
