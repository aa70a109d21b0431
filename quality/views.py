"""Commissioners' page for a home's CQC rating history and entering a rating by hand."""

from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect, render

from core.csv_export import csv_response
from core.errors import ApplicationError, apply_to_form
from organisations.decorators import role_required
from organisations.models import Role
from providers.models import CareHome

from .forms import RatingForm
from .models import KEY_QUESTIONS
from .services import rating_enter

CSV_HEADER = ["report_date", "overall", *KEY_QUESTIONS, "source", "recorded_at"]


@role_required(Role.COMMISSIONER)
def ratings(request, pk: int):
    home = get_object_or_404(CareHome, pk=pk)
    history = home.ratings.select_related("recorded_by").order_by("-recorded_at", "-id")
    if request.GET.get("format") == "csv":
        rows = (
            [r.report_date, r.overall, *(getattr(r, q) for q in KEY_QUESTIONS), r.get_source_display(), r.recorded_at]
            for r in history
        )
        return csv_response(f"ratings-{home.cqc_location_id}.csv", CSV_HEADER, rows)
    form = RatingForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            rating = rating_enter(
                actor=request.user,
                care_home=home,
                overall=data["overall"],
                key_questions={name: data[name] for name in KEY_QUESTIONS},
                report_date=data["report_date"],
            )
        except ApplicationError as error:
            apply_to_form(form, error)
        else:
            if rating is None:
                messages.info(request, "That rating is already the current one, or older than it; nothing changed.")
            else:
                messages.success(request, f"Rating recorded: {rating.overall}.")
            return redirect("quality:ratings", pk=home.pk)
    return render(request, "quality/ratings.html", {"home": home, "history": history, "form": form})
