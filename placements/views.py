"""Brokers' pages: the request list and a new request, and the broker's home page: the work queue,
grouped by what the broker must do next.
The request's own page, with its tender and bids, is bidding's (`bidding.request_views`)."""

from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render

from core.csv_export import csv_response
from core.errors import ApplicationError, apply_to_form
from core.lists import list_page
from organisations.decorators import role_required
from organisations.models import Role

from .forms import AssessmentOutcomeForm, PlacementRequestForm
from .models import Pathway, PlacementRequest
from .next_steps import requests_next_steps, with_next_step
from .selectors import broker_work_queue, placement_get, placement_request_list
from .services import assessment_outcome_record, placement_request_create

REQUEST_CSV_HEADER = ["id", "case_reference", "lot", "status", "requested_at", "target_date", "sourced_at"]


@role_required(Role.BROKER, Role.COMMISSIONER)
def request_list(request):
    requests = placement_request_list(actor=request.user)
    status = request.GET.get("status", "")
    if status in PlacementRequest.Status.values:
        requests = requests.filter(status=status)
    if request.GET.get("format") == "csv":
        rows = (
            [r.pk, r.case_reference, r.lot.number, r.status, r.requested_at.isoformat(), r.target_date, r.sourced_at]
            for r in requests
        )
        return csv_response("placement-requests.csv", REQUEST_CSV_HEADER, rows)
    listing = list_page(request, with_next_step(requests))
    listing.rows = requests_next_steps(listing.rows)
    return render(
        request,
        "placements/request_list.html",
        {"requests": listing, "statuses": PlacementRequest.Status.choices, "status": status},
    )


@role_required(Role.BROKER)
def request_create(request):
    form = PlacementRequestForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            created = placement_request_create(actor=request.user, **form.cleaned_data)
        except ApplicationError as error:
            apply_to_form(form, error)
        else:
            messages.success(request, f"Request for {created.case_reference} saved. Publish it to tender when ready.")
            return redirect("placements:request_detail", pk=created.pk)
    return render(request, "placements/request_form.html", {"form": form})


@role_required(Role.BROKER)
def broker_home(request):
    queue = broker_work_queue(actor=request.user)
    return render(request, "home/broker.html", {"organisation": request.user.organisation, "queue": queue})


@role_required(Role.BROKER)
def assessment_outcome(request, pk: int):
    """Record a discharge-to-assess stay's outcome, from the placement's page."""
    placement = placement_get(actor=request.user, pk=pk)
    if placement.pathway != Pathway.PATHWAY_3_ASSESSMENT:
        raise Http404("This placement is not a discharge-to-assess stay.")
    form = AssessmentOutcomeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            placement = assessment_outcome_record(placement, by=request.user, **form.cleaned_data)
        except ApplicationError as error:
            apply_to_form(form, error)
        else:
            done = f"Outcome recorded: {placement.get_assessment_outcome_display().lower()}."
            follow_on = placement.long_term_requests.order_by("-pk").first()
            if follow_on is not None:
                done += " A request for a long-term home has been raised."
            messages.success(request, done)
            return redirect("contracts:placement_detail", pk=placement.pk)
    return render(request, "placements/assessment_outcome.html", {"form": form, "placement": placement})
