"""Pages: the closure dashboard and each closing home's move plan for brokers and commissioners,
and the provider's notice on a placement or block contract."""

from django.contrib import messages
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from core.csv_export import csv_response
from core.errors import ApplicationError, NotFoundError, apply_to_form
from core.lists import list_page
from organisations.decorators import role_required
from organisations.models import Role
from placements.selectors import placement_request_get

from . import selectors, services
from .forms import ContractEndForm, HandBackForm, HomeClosingForm, OffDpsChoiceForm, ResidentMoveForm

COUNCIL = (Role.BROKER, Role.COMMISSIONER)


def _wants_csv(request) -> bool:
    return request.GET.get("format") == "csv"


@role_required(*COUNCIL)
def closure_list(request):
    """Each closing home of the body and its progress to no residents left; hand-backs received."""
    closures = selectors.home_closure_list(actor=request.user)
    if _wants_csv(request):
        rows = (
            [
                c.care_home.name,
                c.care_home.cqc_location_id,
                c.closing_on,
                c.residents_at_start,
                c.remaining,
                c.moved,
                c.requests_open,
            ]
            for c in closures
        )
        header = ["home", "cqc_location_id", "closing_on", "residents_at_start", "residents_remaining", "moved"]
        return csv_response("home-closures.csv", [*header, "requests_open"], rows)
    hand_backs = list(selectors.hand_back_list(actor=request.user)[:50])
    return render(
        request, "closures/closure_list.html", {"closures": list_page(request, closures), "hand_backs": hand_backs}
    )


@role_required(Role.COMMISSIONER)
def closure_create(request):
    homes = selectors.homes_closable_by(actor=request.user)
    form = HomeClosingForm(request.POST or None, homes=homes)
    if request.method == "POST" and form.is_valid():
        try:
            closures = services.home_closing_announce(
                actor=request.user,
                care_home=form.cleaned_data["care_home"],
                closing_on=form.cleaned_data["closing_on"],
                reason=form.cleaned_data["reason"],
            )
        except ApplicationError as error:
            apply_to_form(form, error)
        else:
            closure = closures[0]
            messages.success(
                request, f"{closure.care_home.name} is closed to admissions and its residents are on the move plan."
            )
            return redirect("closures:closure_detail", pk=closure.pk)
    return render(request, "closures/closure_form.html", {"form": form})


@role_required(*COUNCIL)
def closure_detail(request, pk: int):
    """The move plan of one closing home: a row per resident, and the body's block contracts there."""
    closure = selectors.home_closure_get(actor=request.user, pk=pk)
    moves = selectors.closure_moves(closure=closure)
    if _wants_csv(request):
        rows = (
            [
                m.placement.case_reference,
                "Block bed" if hasattr(m.placement, "block_occupancy") else "Spot",
                m.get_status_display(),
                m.planned_move_on or "",
                m.moved_on or "",
                m.new_request_id or "",
                m.note,
            ]
            for m in moves
        )
        header = ["case_reference", "placement", "status", "planned_move_on", "moved_on", "new_request", "note"]
        return csv_response(f"move-plan-{closure.pk}.csv", header, rows)
    context = {
        "closure": closure,
        "moves": list(moves),
        "contracts": selectors.closure_block_contracts(closure=closure),
        "today": timezone.localdate(),
    }
    return render(request, "closures/closure_detail.html", context)


@require_POST
@role_required(Role.BROKER)
def closure_requests_raise(request, pk: int):
    closure = selectors.home_closure_get(actor=request.user, pk=pk)
    raised = services.urgent_requests_raise(actor=request.user, moves=list(closure.moves.all()))
    if raised:
        messages.success(request, f"{len(raised)} urgent placement requests raised for new homes.")
    else:
        messages.info(request, "Every resident still to move has a request already.")
    return redirect("closures:closure_detail", pk=closure.pk)


@role_required(*COUNCIL)
def move_update(request, pk: int):
    move = selectors.resident_move_get(actor=request.user, pk=pk)
    initial = {"status": move.status, "planned_move_on": move.planned_move_on, "note": move.note}
    form = ResidentMoveForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            move = services.resident_move_update(actor=request.user, move=move, **form.cleaned_data)
        except ApplicationError as error:
            apply_to_form(form, error)
        else:
            messages.success(request, f"{move.placement.case_reference}: {move.get_status_display().lower()}.")
            if move.home_closure_id:
                return redirect("closures:closure_detail", pk=move.home_closure_id)
            return redirect("closures:closure_list")
    return render(request, "closures/move_form.html", {"move": move, "form": form})


@role_required(Role.COMMISSIONER)
def contract_end(request, pk: int, contract_pk: int):
    closure = selectors.home_closure_get(actor=request.user, pk=pk)
    found = [row for row in selectors.closure_block_contracts(closure=closure) if row.contract.pk == contract_pk]
    if not found:
        raise NotFoundError("No such block contract at this home.")
    row = found[0]
    form = ContractEndForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.closure_block_contract_end(
                actor=request.user, closure=closure, contract=row.contract, **form.cleaned_data
            )
        except ApplicationError as error:
            apply_to_form(form, error)
        else:
            messages.success(request, f"{row.contract.reference} ends on {form.cleaned_data['end_date']:%d/%m/%Y}.")
            return redirect("closures:closure_detail", pk=closure.pk)
    return render(request, "closures/contract_end.html", {"closure": closure, "row": row, "form": form})


@role_required(Role.PROVIDER)
def hand_backs(request):
    """The provider's notices given, newest first."""
    listed = selectors.hand_back_list(actor=request.user)
    if _wants_csv(request):
        rows = (
            [
                h.care_home.name,
                h.commissioner.name,
                h.placement.case_reference if h.placement_id else "",
                h.block_contract.reference if h.block_contract_id else "",
                h.notice_ends_on,
                h.reason,
            ]
            for h in listed
        )
        header = ["home", "council", "placement", "block_contract", "last_day_of_care", "reason"]
        return csv_response("hand-backs.csv", header, rows)
    return render(request, "closures/hand_backs.html", {"hand_backs": list_page(request, listed)})


def _hand_back_page(request, *, choices, label, label_from, service, keyword, title):
    form = HandBackForm(request.POST or None, choices=choices, label=label, label_from=label_from)
    if request.method == "POST" and form.is_valid():
        try:
            service(
                actor=request.user,
                notice_ends_on=form.cleaned_data["notice_ends_on"],
                reason=form.cleaned_data["reason"],
                **{keyword: form.cleaned_data["item"]},
            )
        except ApplicationError as error:
            apply_to_form(form, error)
        else:
            messages.success(request, "Notice given: the council has been told.")
            return redirect("closures:hand_backs")
    return render(request, "closures/hand_back_form.html", {"form": form, "title": title})


@role_required(Role.PROVIDER)
def hand_back_placement(request):
    return _hand_back_page(
        request,
        choices=selectors.placements_for_hand_back(actor=request.user),
        label="Placement",
        label_from=lambda p: f"{p.case_reference} at {p.care_home.name} ({p.commissioner.name})",
        service=services.placement_hand_back,
        keyword="placement",
        title="Hand back a placement",
    )


@role_required(Role.PROVIDER)
def hand_back_contract(request):
    return _hand_back_page(
        request,
        choices=selectors.block_contracts_for_hand_back(actor=request.user),
        label="Block contract",
        label_from=lambda c: f"{c.reference} at {c.care_home.name} ({c.commissioner.name})",
        service=services.block_contract_hand_back,
        keyword="contract",
        title="Hand back a block contract",
    )


@role_required(Role.BROKER)
def off_dps_create(request, pk: int):
    """Place the person at the home they chose, off the DPS, on a spot contract by choice."""
    placement_request = placement_request_get(actor=request.user, pk=pk)
    preferred = placement_request.preferred_home
    initial = {"cqc_location_id": preferred.cqc_location_id if preferred else "", "start_date": None}
    form = OffDpsChoiceForm(request.POST or None, initial=initial, commissioner=placement_request.commissioner)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            choice = services.off_dps_placement_create(
                actor=request.user,
                request=placement_request,
                care_home=data["care_home"],
                weekly_fee=data["weekly_fee"],
                start_date=data["start_date"],
                terms_accepted=data["terms_accepted"],
                reason=data["reason"],
                host_council=data["host_council"],
            )
        except ApplicationError as error:
            error.fields = {("cqc_location_id" if k == "care_home" else k): v for k, v in error.fields.items()}
            apply_to_form(form, error)
        else:
            messages.success(
                request,
                f"Placed at {choice.care_home.name} on a spot contract by choice. "
                "The provider has been asked to sign in and accept the agreement.",
            )
            return redirect("placements:request_detail", pk=placement_request.pk)
    context = {"placement_request": placement_request, "form": form}
    return render(request, "closures/off_dps_form.html", context)
