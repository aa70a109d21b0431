"""Pages: block contracts and beds for councils and providers, the block-bed offer on a
placement request, and the commissioner's utilisation page."""

from datetime import date, timedelta

from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_http_methods

from core.audit import audit_timeline
from core.csv_export import csv_response
from core.errors import ApplicationError, apply_to_form
from core.lists import list_page
from organisations.decorators import role_required
from organisations.models import Role
from placements.models import PlacementRequest
from placements.selectors import placement_request_get

from . import services
from .forms import (
    BlockContractEditForm,
    BlockContractForm,
    BlockRateForm,
    DeclineOfferForm,
    EndStayForm,
    FillForm,
    LiveDateForm,
    OutOfServiceForm,
    ReturnToServiceForm,
    UtilisationRangeForm,
)
from .list_filters import BlockContractFilterForm
from .selectors import (
    BedState,
    bed_events,
    bed_state,
    block_bed_get,
    block_contract_get,
    block_contract_list,
    block_fill_default_start,
    contracts_with_rows,
    counts_by_contract,
    current_occupancy,
    fitting_void_beds,
    occupancy_get,
    open_out_of_service,
    utilisation,
)

ALL_ROLES = (Role.BROKER, Role.COMMISSIONER, Role.PROVIDER)


def _run(form, request, action, success: str, target: str):
    """Call a service with the form's data; show its refusal on the form, or redirect."""
    try:
        action()
    except ApplicationError as error:
        apply_to_form(form, error)
        return None
    messages.success(request, success)
    return redirect(target)


# Contracts ----------------------------------------------------------------------------------


@role_required(*ALL_ROLES)
def contract_list(request):
    today = timezone.localdate()
    filters = BlockContractFilterForm(request.GET)
    contracts = contracts_with_rows(filters.apply(block_contract_list(actor=request.user), today=today))
    if request.GET.get("format") != "csv":
        # Beds are counted for the page shown only.
        listing = list_page(request, contracts)
        counts = counts_by_contract(listing.rows, today)
        listing.rows = [(contract, counts[contract.pk]) for contract in listing.rows]
        return render(request, "blockbeds/contract_list.html", {"rows": listing, "today": today, "filters": filters})
    counts = counts_by_contract(contracts, today)
    rows = [(contract, counts[contract.pk]) for contract in contracts]
    header = ["reference", "care home", "provider", "type", "lots", "weekly rate", "start", "end"]
    header += ["contracted", "live", "filled", "void", "out of service", "not yet live"]
    return csv_response(
        "block-contracts.csv",
        header,
        (
            [
                c.reference,
                c.care_home.name,
                c.provider.name,
                c.get_contract_type_display(),
                " ".join(str(lot.number) for lot in c.lots.all()),
                c.weekly_rate,
                c.start_date,
                c.end_date,
                n.contracted,
                n.live,
                n.filled,
                n.void,
                n.out_of_service,
                n.not_yet_live,
            ]
            for c, n in rows
        ),
    )


@role_required(Role.COMMISSIONER)
def contract_create(request):
    form = BlockContractForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            contract = services.block_contract_create(actor=request.user, **form.cleaned_data)
        except ApplicationError as error:
            apply_to_form(form, error)
        else:
            messages.success(
                request, f"Block contract {contract.reference} created with {contract.number_of_beds} beds."
            )
            return redirect("blockbeds:contract_detail", pk=contract.pk)
    return render(request, "blockbeds/form.html", {"form": form, "title": "New block contract"})


@role_required(*ALL_ROLES)
def contract_detail(request, pk: int):
    contract = contracts_with_rows(block_contract_list(actor=request.user).filter(pk=pk)).first()
    if contract is None:
        raise Http404("No such block contract.")
    today = timezone.localdate()
    beds = []
    for bed in contract.beds.all():
        bed.contract = contract
        beds.append((bed, bed_state(bed, today), current_occupancy(bed, today)))
    counts = counts_by_contract([contract], today)[contract.pk]
    rates = list(contract.rates.select_related("uplift").order_by("effective_from"))
    if request.GET.get("format") == "csv" and request.GET.get("table") == "rates":
        return csv_response(
            f"block-contract-{contract.reference}-rates.csv",
            ["effective_from", "weekly_rate", "reason", "uplift", "basis"],
            (
                [r.effective_from, r.weekly_rate, r.get_reason_display(), r.uplift.name if r.uplift else "", r.basis]
                for r in rates
            ),
        )
    if request.GET.get("format") == "csv":
        return csv_response(
            f"block-contract-{contract.reference}.csv",
            ["bed", "live from", "state", "case reference", "occupied since"],
            (
                [
                    bed.label,
                    bed.live_from or "",
                    BedState.LABELS[state],
                    occupancy.placement.case_reference if occupancy else "",
                    occupancy.start_date if occupancy else "",
                ]
                for bed, state, occupancy in beds
            ),
        )
    history = audit_timeline(target=contract) if request.user.is_council_user else []
    return render(
        request,
        "blockbeds/contract_detail.html",
        {
            "contract": contract,
            "rates": rates,
            "beds": beds,
            "counts": counts,
            "today": today,
            "labels": BedState.LABELS,
            "history": history,
        },
    )


@role_required(Role.COMMISSIONER)
def contract_edit(request, pk: int):
    contract = block_contract_get(actor=request.user, pk=pk)
    initial = {name: getattr(contract, name) for name in services.CONTRACT_EDITABLE_FIELDS}
    initial["uplift_percentage"] = initial["uplift_percentage"] or None
    form = BlockContractEditForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        reason = data.pop("reason")
        changes = {name: value for name, value in data.items() if value != initial[name]}
        done = _run(
            form,
            request,
            lambda: services.block_contract_update(contract=contract, actor=request.user, reason=reason, **changes),
            f"Block contract {contract.reference} updated.",
            reverse("blockbeds:contract_detail", args=[contract.pk]),
        )
        if done:
            return done
    return render(
        request, "blockbeds/form.html", {"form": form, "title": f"Change block contract {contract.reference}"}
    )


@role_required(Role.COMMISSIONER)
def contract_rate_new(request, pk: int):
    contract = block_contract_get(actor=request.user, pk=pk)
    form = BlockRateForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        done = _run(
            form,
            request,
            lambda: services.block_contract_rate_record(contract=contract, actor=request.user, **form.cleaned_data),
            f"New weekly rate recorded for block contract {contract.reference}.",
            reverse("blockbeds:contract_detail", args=[contract.pk]),
        )
        if done:
            return done
    return render(
        request,
        "blockbeds/form.html",
        {"form": form, "title": f"Record a new rate for block contract {contract.reference}", "contract": contract},
    )


# Beds ---------------------------------------------------------------------------------------


@role_required(*ALL_ROLES)
def bed_detail(request, pk: int):
    bed = block_bed_get(actor=request.user, pk=pk)
    today = timezone.localdate()
    occupancies = list(bed.occupancies.select_related("placement").order_by("-start_date"))
    periods = list(bed.out_of_service_periods.order_by("-start_date"))
    return render(
        request,
        "blockbeds/bed_detail.html",
        {
            "bed": bed,
            "state": bed_state(bed, today),
            "labels": BedState.LABELS,
            "current": current_occupancy(bed, today),
            "out_of_service": open_out_of_service(bed, today),
            "occupancies": occupancies,
            "periods": periods,
            "events": bed_events(bed=bed),
        },
    )


def _bed_form_page(request, pk: int, form_class, title: str, action, success: str):
    bed = block_bed_get(actor=request.user, pk=pk)
    form = form_class(request.POST or None)
    if request.method == "POST" and form.is_valid():
        done = _run(
            form,
            request,
            lambda: action(bed, form.cleaned_data),
            success,
            reverse("blockbeds:bed_detail", args=[bed.pk]),
        )
        if done:
            return done
    return render(request, "blockbeds/form.html", {"form": form, "title": title, "bed": bed})


@role_required(Role.COMMISSIONER)
def bed_live(request, pk: int):
    return _bed_form_page(
        request,
        pk,
        LiveDateForm,
        "Set the date the bed goes live",
        lambda bed, data: services.block_bed_set_live(bed=bed, actor=request.user, **data),
        "Live date saved.",
    )


@role_required(Role.COMMISSIONER, Role.PROVIDER)
def bed_out_of_service(request, pk: int):
    return _bed_form_page(
        request,
        pk,
        OutOfServiceForm,
        "Take the bed out of service",
        lambda bed, data: services.block_bed_take_out_of_service(bed=bed, actor=request.user, **data),
        "The bed is out of service.",
    )


@role_required(Role.COMMISSIONER, Role.PROVIDER)
def bed_return(request, pk: int):
    return _bed_form_page(
        request,
        pk,
        ReturnToServiceForm,
        "Return the bed to service",
        lambda bed, data: services.block_bed_return_to_service(bed=bed, actor=request.user, **data),
        "The bed is back in service.",
    )


@role_required(Role.BROKER, Role.PROVIDER)
def occupancy_end(request, pk: int):
    occupancy = occupancy_get(actor=request.user, pk=pk)
    form = EndStayForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        done = _run(
            form,
            request,
            lambda: services.occupancy_end(occupancy=occupancy, actor=request.user, **form.cleaned_data),
            "The stay has ended and the bed is void.",
            reverse("blockbeds:bed_detail", args=[occupancy.bed_id]),
        )
        if done:
            return done
    return render(
        request,
        "blockbeds/form.html",
        {
            "form": form,
            "title": "Report the bed void",
            "bed": occupancy.bed,
            "lead": f"{occupancy.placement.case_reference} has been in bed {occupancy.bed.label} "
            f"since {occupancy.start_date:%d %B %Y}.",
        },
    )


# Block first --------------------------------------------------------------------------------


@role_required(Role.BROKER)
@require_http_methods(["GET", "POST"])
def offer_fill(request, request_pk: int, bed_pk: int):
    placement_request = placement_request_get(actor=request.user, pk=request_pk)
    bed = block_bed_get(actor=request.user, pk=bed_pk)
    form = FillForm(request.POST or None, initial={"start_date": block_fill_default_start(placement_request)})
    if request.method == "POST" and form.is_valid():
        done = _run(
            form,
            request,
            lambda: services.block_bed_fill(
                bed=bed, request=placement_request, actor=request.user, start_date=form.cleaned_data["start_date"]
            ),
            f"{placement_request.case_reference} placed in bed {bed.label} at {bed.contract.care_home.name}.",
            _request_page(placement_request),
        )
        if done:
            return done
    return render(
        request,
        "blockbeds/form.html",
        {
            "form": form,
            "title": f"Place {placement_request.case_reference} in a block bed",
            "bed": bed,
            "lead": f"Bed {bed.label} at {bed.contract.care_home.name}, contract {bed.contract.reference}, "
            f"£{bed.contract.weekly_rate} a week.",
        },
    )


@role_required(Role.BROKER)
def offer_decline(request, request_pk: int):
    placement_request = placement_request_get(actor=request.user, pk=request_pk)
    form = DeclineOfferForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        done = _run(
            form,
            request,
            lambda: services.block_offer_decline(
                request=placement_request, actor=request.user, reason=form.cleaned_data["reason"]
            ),
            "Block beds declined. You can now send the request out to tender.",
            _request_page(placement_request),
        )
        if done:
            return done
    return render(
        request,
        "blockbeds/form.html",
        {
            "form": form,
            "title": f"Decline block beds for {placement_request.case_reference}",
            "beds": fitting_void_beds(request=placement_request),
            "lead": "If you decline, the beds below stay void, your reason is recorded on the request, and the "
            "request can go out to tender. The beds are not offered for this request again.",
            "cancel_url": _request_page(placement_request),
        },
    )


def _request_page(placement_request: PlacementRequest) -> str:
    return reverse("placements:request_detail", args=[placement_request.pk])


# Utilisation --------------------------------------------------------------------------------

CHART_WIDTH = 640
CHART_HEIGHT = 220
CHART_LEFT = 44
CHART_BOTTOM = 36


def _chart(periods) -> dict:
    """Bar geometry for the monthly occupancy chart, drawn on the server as SVG."""
    if not periods:
        return {"bars": []}
    plot_width = CHART_WIDTH - CHART_LEFT - 8
    plot_height = CHART_HEIGHT - CHART_BOTTOM - 10
    slot = plot_width / len(periods)
    bars = []
    for index, period in enumerate(periods):
        rate = float(period.occupancy_rate or 0)
        height = plot_height * rate / 100
        bars.append(
            {
                "x": round(CHART_LEFT + index * slot + slot * 0.15, 1),
                "y": round(10 + plot_height - height, 1),
                "width": round(slot * 0.7, 1),
                "height": round(height, 1),
                "label_x": round(CHART_LEFT + index * slot + slot / 2, 1),
                "period": period,
            }
        )
    gridlines = [{"value": v, "y": round(10 + plot_height - plot_height * v / 100, 1)} for v in (0, 25, 50, 75, 100)]
    return {
        "bars": bars,
        "gridlines": gridlines,
        "width": CHART_WIDTH,
        "height": CHART_HEIGHT,
        "left": CHART_LEFT,
        "axis_y": 10 + plot_height,
        "label_y": CHART_HEIGHT - CHART_BOTTOM + 18,
    }


def default_range(today: date) -> tuple[date, date]:
    """The last twelve months up to today, starting on the first of a month."""
    start = (today.replace(day=1) - timedelta(days=335)).replace(day=1)
    return start, today


@role_required(Role.COMMISSIONER, Role.BROKER)
def utilisation_page(request):
    today = timezone.localdate()
    start, end = default_range(today)
    form = UtilisationRangeForm(request.GET or {"date_from": start.isoformat(), "date_to": end.isoformat()})
    valid = form.is_valid()
    if valid:
        start, end = form.cleaned_data["date_from"], form.cleaned_data["date_to"]
    result = utilisation(commissioner=request.user.organisation, at=today, date_from=start, date_to=end)
    # A refused range shows the page's default figures with the errors, never a download of them.
    if valid and request.GET.get("format") == "csv":
        if request.GET.get("table") == "months":
            return csv_response(
                f"block-occupancy-{start}-{end}.csv",
                ["from", "to", "live bed-days", "filled bed-days", "void bed-days", "occupancy %"],
                (
                    [
                        p.start,
                        p.end,
                        p.live_bed_days,
                        p.filled_bed_days,
                        p.void_bed_days,
                        _blank_if_none(p.occupancy_rate),
                    ]
                    for p in result.periods
                ),
            )
        return csv_response(f"block-utilisation-{start}-{end}.csv", UTILISATION_CSV_HEADER, _utilisation_rows(result))
    return render(
        request,
        "blockbeds/utilisation.html",
        {"form": form, "result": result, "chart": _chart(result.periods), "date_from": start, "date_to": end},
        status=200 if valid else 400,
    )


UTILISATION_CSV_HEADER = [
    "scope",
    "name",
    "contracted",
    "live",
    "filled",
    "void",
    "out of service",
    "not yet live",
    "void bed-days",
    "void cost",
    "occupancy %",
]


def _blank_if_none(value):
    return "" if value is None else value


def _counts_row(scope, name, n):
    return [
        scope,
        name,
        n.contracted,
        n.live,
        n.filled,
        n.void,
        n.out_of_service,
        n.not_yet_live,
        n.void_bed_days,
        n.void_cost,
        _blank_if_none(n.occupancy_rate),
    ]


def _utilisation_rows(result):
    for row in result.contracts:
        yield _counts_row("contract", f"{row.contract.reference} {row.contract.care_home.name}", row.counts)
    for row in result.lots:
        yield _counts_row("lot", str(row.lot), row.counts)
    yield _counts_row("overall", "All block contracts", result.overall)
