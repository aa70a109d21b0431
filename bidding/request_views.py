"""The placement request's page and its actions: the tender, the ranked bids, publishing, tendering
again, the award and cancelling. Brokers act; commissioners read.

Here in bidding, not placements, because the page is mostly the request's tenders and bids; the URL
names stay in the `placements` namespace (see `bidding.request_urls`)."""

from django.contrib import messages
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from core.audit import audit_timeline, verb_label
from core.csv_export import csv_response
from core.errors import ApplicationError, apply_to_form
from organisations.decorators import role_required
from organisations.models import Role
from placements.forms import AwardForm, CancelForm, PublishForm, RetenderForm
from placements.models import PlacementRequest
from placements.next_steps import request_next_step
from placements.selectors import placement_request_get
from providers.selectors import off_dps_reason

from .models import Tender
from .selectors import (
    SEALED,
    bid_disclosure,
    other_bids,
    ranked_bids,
    tender_awaits_close,
    tender_invitations,
    tender_list,
    tender_state_label,
)
from .services import (
    placement_request_cancel,
    placement_request_retender,
    tender_award,
    tender_close_and_evaluate,
    tender_publish,
)

FORM_ACTIONS = {
    "publish_form": "placements:request_publish",
    "retender_form": "placements:request_retender",
    "award_form": "placements:request_award",
    "cancel_form": "placements:request_cancel",
}
RANKED_CSV_HEADER = [
    "rank",
    "care_home",
    "provider",
    "rating",
    "weekly_fee",
    "quality_score",
    "price_score",
    "total_score",
    "above_max_rate",
    "earliest_start",
]


def _latest_tender(user, placement_request):
    return tender_list(actor=user).filter(request=placement_request).order_by("-opened_at", "-pk").first()


def _detail_context(request, placement_request, **forms):
    user = request.user
    tender = _latest_tender(user, placement_request)
    if tender is not None and tender_awaits_close(tender):
        # The deadline has passed but no worker has closed it yet: close and evaluate now
        # (idempotent), so the page never waits on a worker to show the ranking.
        tender_close_and_evaluate(tender_id=tender.pk)
        tender = _latest_tender(user, placement_request)
    disclosure = bid_disclosure(actor=user, tender=tender) if tender else SEALED
    ranked = list(ranked_bids(actor=user, tender=tender)) if disclosure.ranks else []
    is_broker = user.role == Role.BROKER
    context = {
        "placement_request": placement_request,
        "tender": tender,
        "tender_state": tender_state_label(tender) if tender else "",
        "tenders": tender_list(actor=user).filter(request=placement_request).order_by("-opened_at", "-pk"),
        "ranked": ranked,
        "not_ranked": list(other_bids(tender=tender)) if disclosure.amounts else [],
        "disclosure": disclosure,
        "timeline": [(event, verb_label(event.verb)) for event in audit_timeline(target=placement_request)],
        "is_broker": is_broker,
        "award": getattr(tender, "award", None) if tender and tender.status == Tender.Status.AWARDED else None,
        "next_step": request_next_step(placement_request),
        "invitations": list(tender_invitations(actor=user, tender=tender)) if tender else [],
        "placement": getattr(placement_request, "placement", None),
    }
    preferred = placement_request.preferred_home
    if preferred is not None and placement_request.status == PlacementRequest.Status.NEW:
        context["preferred_off_dps"] = off_dps_reason(
            care_home=preferred, commissioner=placement_request.commissioner, lot=placement_request.lot
        )
    live = placement_request.status in (PlacementRequest.Status.NEW, PlacementRequest.Status.TENDERING)
    if is_broker and live:
        can_publish = tender is None or tender.status == Tender.Status.CANCELLED
        if can_publish:
            context["publish_form"] = forms.get("publish_form") or PublishForm()
        if tender and tender.status == Tender.Status.NO_BIDS:
            context["retender_form"] = forms.get("retender_form") or RetenderForm(
                initial={
                    "max_weekly_rate": placement_request.max_weekly_rate,
                    "local_authority": placement_request.local_authority,
                    "max_distance_km": placement_request.max_distance_km,
                }
            )
        if tender and tender.status == Tender.Status.EVALUATED:
            context["award_form"] = forms.get("award_form") or AwardForm(bids=ranked)
        context["cancel_form"] = forms.get("cancel_form") or CancelForm()
    for name, url_name in FORM_ACTIONS.items():
        if name in context:
            context[name].helper.form_action = reverse(url_name, args=[placement_request.pk])
    return context


@role_required(Role.BROKER, Role.COMMISSIONER)
def request_detail(request, pk: int):
    placement_request = placement_request_get(actor=request.user, pk=pk)
    context = _detail_context(request, placement_request)
    if request.GET.get("format") == "csv":
        rows = (
            [
                bid.rank,
                bid.care_home.name,
                bid.provider.name,
                bid.working.get("rating", ""),
                bid.weekly_fee,
                bid.quality_score,
                bid.price_score,
                bid.total_score,
                "yes" if bid.above_max_rate else "no",
                bid.earliest_start,
            ]
            for bid in context["ranked"]
        )
        return csv_response(f"tender-{pk}-ranking.csv", RANKED_CSV_HEADER, rows)
    return render(request, "placements/request_detail.html", context)


def _act(request, placement_request, form, action, success: str, form_name: str):
    if form.is_valid():
        try:
            action(form.cleaned_data)
        except ApplicationError as error:
            apply_to_form(form, error)
            context = _detail_context(request, placement_request, **{form_name: form})
            context["page_error"] = error.message
            return render(request, "placements/request_detail.html", context, status=error.status)
        messages.success(request, success)
        return redirect("placements:request_detail", pk=placement_request.pk)
    context = _detail_context(request, placement_request, **{form_name: form})
    return render(request, "placements/request_detail.html", context, status=400)


@require_POST
@role_required(Role.BROKER)
def request_publish(request, pk: int):
    placement_request = placement_request_get(actor=request.user, pk=pk)
    form = PublishForm(request.POST)
    return _act(
        request,
        placement_request,
        form,
        lambda data: tender_publish(actor=request.user, request=placement_request, closes_at=data["closes_at"]),
        "Published to tender. Eligible homes have been invited.",
        "publish_form",
    )


@require_POST
@role_required(Role.BROKER)
def request_retender(request, pk: int):
    placement_request = placement_request_get(actor=request.user, pk=pk)
    form = RetenderForm(request.POST)
    return _act(
        request,
        placement_request,
        form,
        lambda data: placement_request_retender(actor=request.user, request=placement_request, **data),
        "Tendered again with the new area and rate.",
        "retender_form",
    )


@require_POST
@role_required(Role.BROKER)
def request_award(request, pk: int):
    placement_request = placement_request_get(actor=request.user, pk=pk)
    tender = _latest_tender(request.user, placement_request)
    bids = list(ranked_bids(actor=request.user, tender=tender)) if tender else []
    form = AwardForm(request.POST, bids=bids)

    def award(data):
        if tender is None:
            raise ApplicationError("There is no tender to award.")
        bid = next(b for b in bids if b.pk == data["bid"])
        tender_award(
            actor=request.user,
            tender=tender,
            bid=bid,
            reason=data["reason"],
            top_up_payer=data["top_up_payer"],
            start_date=data["start_date"],
            standstill_waiver_reason=data["standstill_waiver_reason"],
        )

    return _act(request, placement_request, form, award, "Placement awarded. Every bidder has been told.", "award_form")


@require_POST
@role_required(Role.BROKER)
def request_cancel(request, pk: int):
    placement_request = placement_request_get(actor=request.user, pk=pk)
    form = CancelForm(request.POST)
    return _act(
        request,
        placement_request,
        form,
        lambda data: placement_request_cancel(actor=request.user, request=placement_request, reason=data["reason"]),
        "Request cancelled.",
        "cancel_form",
    )
