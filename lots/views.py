"""Commissioners' pages for the rules of each lot."""

from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect, render

from core.csv_export import csv_response
from core.errors import ApplicationError, apply_to_form
from organisations.decorators import role_required
from organisations.models import Role

from .forms import LotRulesForm
from .selectors import lot_rules_list
from .services import EDITABLE_FIELDS, lot_rules_update

CSV_HEADER = ["lot", "name", *EDITABLE_FIELDS]


@role_required(Role.COMMISSIONER, Role.BROKER)
def rules_list(request):
    rules = lot_rules_list(actor=request.user)
    if request.GET.get("format") == "csv":
        rows = ([r.lot.number, r.lot.name, *(getattr(r, f) for f in EDITABLE_FIELDS)] for r in rules)
        return csv_response("lot-rules.csv", CSV_HEADER, rows)
    return render(request, "lots/rules_list.html", {"rules": rules})


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
