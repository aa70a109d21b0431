"""A home's CQC rating history, and the form back-office staff use to enter the CQC's report by hand."""

from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect, render

from core.csv_export import csv_response
from core.errors import ApplicationError, apply_to_form
from organisations.permissions import is_commissioner

from .forms import RatingForm
from .models import KEY_QUESTIONS, Rating
from .permissions import can_enter_rating
from .selectors import care_home_get_for_ratings
from .services import rating_record

CSV_HEADER = ["report_date", "overall", *KEY_QUESTIONS, "source", "recorded_by", "recorded_at"]


def ratings(request, pk: int):
    user = request.user
    if not user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    may_enter = can_enter_rating(user)
    if not (is_commissioner(user) or may_enter):
        raise PermissionDenied("Your role cannot use this page.")
    home = care_home_get_for_ratings(actor=user, pk=pk)
    history = home.ratings.select_related("recorded_by").order_by("-recorded_at", "-id")
    if request.GET.get("format") == "csv":
        rows = (
            [
                r.report_date,
                r.overall,
                *(getattr(r, q) for q in KEY_QUESTIONS),
                r.get_source_display(),
                r.recorded_by or "",
                r.recorded_at,
            ]
            for r in history
        )
        return csv_response(f"ratings-{home.cqc_location_id}.csv", CSV_HEADER, rows)
    if request.method == "POST" and not may_enter:
        raise PermissionDenied("Only back-office staff allowed to enter CQC ratings can record one by hand.")
    form = RatingForm(request.POST or None) if may_enter else None
    if form is not None and request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            rating = rating_record(
                actor=user,
                care_home=home,
                overall=data["overall"],
                key_questions={name: data[name] for name in KEY_QUESTIONS},
                report_date=data["report_date"],
                source=Rating.Source.MANUAL,
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
