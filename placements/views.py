"""Brokers' pages: the request list and a new request, and the broker's home page: the work queue,
grouped by what the broker must do next. Hospital discharge coordinators' pages: their hospital's
referrals, a new referral and where each one stands.
The request's own page, with its tender and bids, is bidding's (`bidding.request_views`)."""

from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render

from core.csv_export import csv_response
from core.errors import ApplicationError, apply_to_form
from core.lists import list_page
from organisations.decorators import role_required
from organisations.models import Role

from .forms import AssessmentOutcomeForm, PlacementRequestForm, ReferralForm
from .models import Pathway, PlacementRequest
from .next_steps import request_next_step, requests_next_steps, with_next_step
from .selectors import (
    broker_work_queue,
    placement_get,
    placement_request_list,
    referral_bodies,
    referral_get,
    referral_list,
)
from .services import assessment_outcome_record, placement_request_create, referral_create

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
    form = PlacementRequestForm(request.POST or None, commissioner=request.user.organisation)
    if request.method == "POST" and form.is_valid():
        try:
            created = placement_request_create(actor=request.user, **form.request_values())
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


REFERRAL_CSV_HEADER = [
    "id",
    "case_reference",
    "council_or_nhs_body",
    "lot",
    "pathway",
    "ready_for_discharge_at",
    "target_at",
    "what_happens_next",
    "sourced_at",
]


@role_required(Role.DISCHARGE_COORDINATOR)
def referral_list_view(request):
    """The coordinator's home page: their hospital's referrals, each with what happens next."""
    referrals = referral_list(actor=request.user).order_by("-requested_at", "-pk")
    if request.GET.get("format") == "csv":
        rows = (
            [
                r.pk,
                r.case_reference,
                r.commissioner.name,
                r.lot.number,
                r.get_pathway_display(),
                r.ready_for_discharge_at.isoformat() if r.ready_for_discharge_at else "",
                r.target_at.isoformat() if r.target_at else "",
                r.next_step.label,
                r.sourced_at.isoformat() if r.sourced_at else "",
            ]
            for r in requests_next_steps(referrals)
        )
        return csv_response("referrals.csv", REFERRAL_CSV_HEADER, rows)
    listing = list_page(request, with_next_step(referrals))
    listing.rows = requests_next_steps(listing.rows)
    return render(
        request, "placements/referral_list.html", {"referrals": listing, "hospital": request.user.organisation}
    )


@role_required(Role.DISCHARGE_COORDINATOR)
def referral_create_view(request):
    form = ReferralForm(request.POST or None, bodies=referral_bodies(actor=request.user))
    if request.method == "POST" and form.is_valid():
        try:
            created = referral_create(actor=request.user, **form.referral_values())
        except ApplicationError as error:
            apply_to_form(form, error)
        else:
            messages.success(
                request, f"Referral for {created.case_reference} sent to {created.commissioner.name}'s brokers."
            )
            return redirect("placements:referral_detail", pk=created.pk)
    return render(request, "placements/referral_form.html", {"form": form})


@role_required(Role.DISCHARGE_COORDINATOR)
def referral_detail_view(request, pk: int):
    """Where one referral stands, in plain words: never a bid or a fee."""
    referral = referral_get(actor=request.user, pk=pk)
    decided = referral.status in (PlacementRequest.Status.AWARDED, PlacementRequest.Status.PLACED)
    placement = getattr(referral, "placement", None) if decided else None
    return render(
        request,
        "placements/referral_detail.html",
        {
            "referral": referral,
            "next_step": request_next_step(referral),
            "care_home": placement.care_home if placement is not None else None,
        },
    )
