"""The provider portal: invitations to tender, bids, outcomes."""

from django.contrib import messages
from django.shortcuts import redirect, render

from core.clock import request_receipt
from core.csv_export import csv_response
from core.errors import ApplicationError, apply_to_form
from core.lists import list_page
from organisations.decorators import role_required
from organisations.models import Role

from .forms import BidForm, WithdrawForm
from .list_filters import InvitationFilterForm
from .models import Bid, Invitation, Tender
from .selectors import bid_disclosure, invitation_get, invitation_list, tender_is_open
from .services import bid_above_max_warning, bid_amend, bid_submit, bid_withdraw

CSV_HEADER = ["tender", "lot", "care_home", "closes_at", "state", "bid_status", "weekly_fee", "rank", "outcome"]


def invitation_state(invitation: Invitation) -> str:
    tender = invitation.tender
    if invitation.status == Invitation.Status.WITHDRAWN:
        return "Invitation withdrawn"
    if tender_is_open(tender):
        return "Open"
    if tender.status == Tender.Status.AWARDED:
        return "Outcome"
    if tender.status == Tender.Status.CANCELLED:
        return "Cancelled"
    return "Closed"


def live_bid(invitation: Invitation) -> Bid | None:
    """The home's bid on this tender, whatever its status (one per invitation)."""
    return getattr(invitation, "bid", None)


def outcome(invitation: Invitation, *, actor) -> str:
    bid = live_bid(invitation)
    if not bid_disclosure(actor=actor, tender=invitation.tender).outcomes:
        return ""
    if bid is None or bid.status != Bid.Status.SUBMITTED:
        return ""
    return "Won" if bid.rank is not None and hasattr(bid, "award") else "Not successful"


@role_required(Role.PROVIDER)
def invitation_list_view(request):
    filters = InvitationFilterForm(request.GET)
    invitations = list(invitation_list(actor=request.user))
    rows = []
    for invitation in invitations:
        bid = live_bid(invitation)
        rows.append(
            {
                "invitation": invitation,
                "state": invitation_state(invitation),
                "bid": bid,
                "outcome": outcome(invitation, actor=request.user),
                "show_rank": bid_disclosure(actor=request.user, tender=invitation.tender).ranks,
            }
        )
    rows = [row for row in rows if filters.keep(row)]
    if request.GET.get("format") == "csv":
        return csv_response(
            "invitations.csv",
            CSV_HEADER,
            (
                [
                    row["invitation"].tender_id,
                    row["invitation"].tender.request.lot.number,
                    row["invitation"].care_home.name,
                    row["invitation"].tender.closes_at.isoformat(),
                    row["state"],
                    row["bid"].status if row["bid"] else "",
                    row["bid"].weekly_fee if row["bid"] else "",
                    row["bid"].rank if row["bid"] and row["show_rank"] else "",
                    row["outcome"],
                ]
                for row in rows
            ),
        )
    return render(request, "bidding/invitation_list.html", {"rows": list_page(request, rows), "filters": filters})


def _page(request, invitation, *, bid_form=None, status=200, error: str = ""):
    bid = live_bid(invitation)
    is_open = tender_is_open(invitation.tender) and invitation.status == Invitation.Status.INVITED
    live = bid is not None and bid.status == Bid.Status.SUBMITTED
    if is_open and bid_form is None:
        if live:
            bid_form = BidForm(
                submit_label="Amend bid",
                initial={
                    "weekly_fee": bid.weekly_fee,
                    "earliest_start": bid.earliest_start,
                    "needs_confirmed": bid.needs_confirmed,
                    "notes": bid.notes,
                },
            )
        elif bid is None or bid.status == Bid.Status.WITHDRAWN:
            bid_form = BidForm()
    context = {
        "invitation": invitation,
        "tender": invitation.tender,
        "request_profile": invitation.tender.request,
        "state": invitation_state(invitation),
        "bid": bid,
        "is_open": is_open,
        "bid_form": bid_form if is_open else None,
        "can_withdraw": is_open and live,
        "outcome": outcome(invitation, actor=request.user),
        "won": outcome(invitation, actor=request.user) == "Won",
        "page_error": error,
        "above_max_warning": bid_above_max_warning(bid=bid) if live else "",
    }
    return render(request, "bidding/invitation_detail.html", context, status=status)


@role_required(Role.PROVIDER)
def invitation_detail(request, pk: int):
    invitation = invitation_get(actor=request.user, pk=pk)
    if request.method != "POST":
        return _page(request, invitation)
    bid = live_bid(invitation)
    live = bid is not None and bid.status == Bid.Status.SUBMITTED
    form = BidForm(request.POST, submit_label="Amend bid" if live else "Submit bid")
    if form.is_valid():
        try:
            if live:
                bid_amend(actor=request.user, bid=bid, received=request_receipt(request), **form.cleaned_data)
            else:
                bid_submit(
                    actor=request.user,
                    tender=invitation.tender,
                    care_home=invitation.care_home,
                    received=request_receipt(request),
                    **form.cleaned_data,
                )
        except ApplicationError as error:
            apply_to_form(form, error)
            return _page(
                request,
                invitation_get(actor=request.user, pk=pk),
                bid_form=form,
                status=error.status,
                error=error.message,
            )
        messages.success(request, "Bid amended." if live else "Bid submitted.")
        return redirect("bidding:invitation_detail", pk=invitation.pk)
    return _page(request, invitation_get(actor=request.user, pk=pk), bid_form=form, status=400)


@role_required(Role.PROVIDER)
def invitation_withdraw_bid(request, pk: int):
    """A page that says what withdrawing does, with the button that does it and a way back."""
    invitation = invitation_get(actor=request.user, pk=pk)
    bid = live_bid(invitation)
    if request.method != "POST":
        if bid is None or bid.status != Bid.Status.SUBMITTED or not tender_is_open(invitation.tender):
            messages.error(request, "There is no bid to withdraw.")
            return redirect("bidding:invitation_detail", pk=invitation.pk)
        return _withdraw_page(request, invitation, bid, WithdrawForm())
    form = WithdrawForm(request.POST)
    if not form.is_valid():
        return _withdraw_page(request, invitation, bid, form, status=400)
    try:
        if bid is None:
            raise ApplicationError("There is no bid to withdraw.")
        bid_withdraw(actor=request.user, bid=bid, reason=form.cleaned_data["reason"], received=request_receipt(request))
    except ApplicationError as error:
        apply_to_form(form, error)
        return _withdraw_page(request, invitation, bid, form, status=error.status)
    messages.success(request, "Bid withdrawn.")
    return redirect("bidding:invitation_detail", pk=invitation.pk)


def _withdraw_page(request, invitation: Invitation, bid: Bid | None, form: WithdrawForm, *, status: int = 200):
    context = {"invitation": invitation, "tender": invitation.tender, "bid": bid, "form": form}
    return render(request, "bidding/withdraw_confirm.html", context, status=status)
