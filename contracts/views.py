"""Pages: placements with their agreements, fees and payments; service agreements, fee uplifts and payment
schedules."""

from django.contrib import messages
from django.db import transaction
from django.http import HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from blockbeds.selectors import block_contract_list
from core.audit import audit_timeline
from core.csv_export import csv_response
from core.errors import ACCESS_ERRORS, ApplicationError, apply_to_form
from core.lists import list_page
from organisations.decorators import role_required
from organisations.models import Role
from placements.models import Placement
from placements.next_steps import request_next_step
from placements.selectors import assessment_stay, placement_request_get

from .forms import (
    AbsenceEndForm,
    AbsenceForm,
    DeathForm,
    FeeChangeForm,
    FncRateForm,
    FundingChangeForm,
    OutcomeRuleForm,
    PaymentRulesForm,
    PeriodForm,
    PlacementEndForm,
    TopUpAgreementForm,
    TopUpStopForm,
    UpliftForm,
)
from .list_filters import (
    AgreementFilterForm,
    PaymentFilterForm,
    UpliftFilterForm,
    agreements_filter,
    payment_schedule_narrow,
)
from .models import Uplift
from .payments import (
    CSV_HEADER,
    csv_rows,
    payment_schedule_for,
    period_containing,
    period_parse,
    placement_payment_lines,
)
from .pdf import agreement_pdf
from .selectors import (
    absence_get,
    agreement_get,
    agreement_list,
    agreement_versions,
    fnc_rate_rows,
    nhs_payer_list,
    outcome_rule_list,
    payment_rules_for,
    placement_payers,
    placement_record_get,
    uplift_get,
    uplift_list,
)
from .services import (
    absence_end,
    absence_record,
    agreement_accept,
    death_record,
    fee_change_record,
    fnc_rate_queue,
    fnc_rate_record,
    funding_shares_change,
    outcome_rule_create,
    payment_rules_update,
    placement_end_record,
    top_up_agreement_record,
    top_up_stop,
    uplift_create,
    uplift_preview,
    uplift_queue,
)

ALL_ROLES = (Role.BROKER, Role.COMMISSIONER, Role.PROVIDER)
AGREEMENT_CSV_HEADER = [
    "reference",
    "version",
    "case_reference",
    "commissioner",
    "provider",
    "care_home",
    "lot",
    "start_date",
    "end_date",
    "weekly_fee",
    "council_weekly",
    "top_up_weekly",
    "accepted_at",
]


@role_required(*ALL_ROLES)
def agreements(request):
    filters = AgreementFilterForm(request.GET)
    rows = agreements_filter(
        agreement_list(actor=request.user).filter(is_current=True).order_by("care_home_name", "case_reference", "pk"),
        **filters.filters(),
    )
    if request.GET.get("format") == "csv":
        return csv_response(
            "service-agreements.csv",
            AGREEMENT_CSV_HEADER,
            (
                [
                    a.reference,
                    a.version,
                    a.case_reference,
                    a.commissioner_name,
                    a.provider_name,
                    a.care_home_name,
                    a.lot_name,
                    a.start_date,
                    a.end_date or "",
                    a.weekly_fee,
                    a.council_weekly_amount,
                    a.top_up_weekly_amount,
                    timezone.localtime(a.accepted_at).isoformat() if a.accepted_at else "",
                ]
                for a in rows
            ),
        )
    return render(
        request, "contracts/agreement_list.html", {"agreements": list_page(request, rows), "filters": filters}
    )


@role_required(*ALL_ROLES)
def agreement_detail(request, pk: int):
    agreement = agreement_get(actor=request.user, pk=pk)
    return render(
        request,
        "contracts/agreement_detail.html",
        {
            "agreement": agreement,
            "versions": agreement_versions(agreement=agreement),
            "can_accept": request.user.is_provider_user and agreement.is_current and not agreement.is_accepted,
            "timeline": audit_timeline(target=agreement),
        },
    )


@role_required(*ALL_ROLES)
def placement_detail(request, pk: int):
    """A placement: the request and the award with its reasons (for the council), the agreement
    versions, the fee history and this four weeks' payment lines."""
    record = placement_record_get(actor=request.user, pk=pk)
    period = period_containing(timezone.localdate(), weeks=4)
    placement = record.placement
    return render(
        request,
        "contracts/placement_detail.html",
        {
            "record": record,
            "placement": placement,
            "next_step": request_next_step(placement.request) if record.award or record.lapsed_award else None,
            "period": period,
            "payment_lines": placement_payment_lines(placement=placement, period=period),
            "is_council": request.user.is_council_user,
            "can_act": request.user.is_council_user and not placement.cancelled_at,
            "assessment": assessment_stay(actor=request.user, placement=placement),
            "payers": placement_payers(placement=placement, on=timezone.localdate()),
        },
    )


def _placement_action(request, pk: int, form, act, *, title: str, done: str, fields: dict | None = None):
    """A form about a placement of the user's body: `act(placement, cleaned_data)` calls the service;
    its refusals show on the form's fields (`fields` renames the service's field names)."""
    placement = placement_record_get(actor=request.user, pk=pk).placement
    if request.method == "POST" and form.is_valid():
        try:
            act(placement, form.cleaned_data)
        except ApplicationError as error:
            for name, renamed in (fields or {}).items():
                if name in error.fields:
                    error.fields[renamed] = error.fields.pop(name)
            apply_to_form(form, error)
        else:
            messages.success(request, done)
            return redirect("contracts:placement_detail", pk=placement.pk)
    context = {"form": form, "placement": placement, "title": title}
    return render(request, "contracts/placement_action.html", context, status=400 if form.errors else 200)


@role_required(Role.BROKER, Role.COMMISSIONER)
def absence_new(request, pk: int):
    def act(placement, data):
        absence_record(placement=placement, by=request.user, **data)

    return _placement_action(
        request,
        pk,
        AbsenceForm(request.POST or None),
        act,
        title="Record an absence from the home",
        done="Absence recorded: the body's payment rules apply to the days away.",
    )


@role_required(Role.BROKER, Role.COMMISSIONER)
def absence_end_view(request, pk: int, absence_pk: int):
    placement = placement_record_get(actor=request.user, pk=pk).placement
    absence = absence_get(placement=placement, pk=absence_pk)

    def act(placement, data):
        absence_end(absence=absence, by=request.user, **data)

    return _placement_action(
        request,
        pk,
        AbsenceEndForm(request.POST or None, initial={"ends_on": absence.ends_on}),
        act,
        title=f"Record the return from the absence from {absence.starts_on:%-d %B %Y}",
        done="Return recorded.",
    )


@role_required(Role.BROKER, Role.COMMISSIONER)
def death_new(request, pk: int):
    def act(placement, data):
        death_record(placement=placement, by=request.user, **data)

    return _placement_action(
        request,
        pk,
        DeathForm(request.POST or None),
        act,
        title="Record a death",
        done="Death recorded: the placement ends that day and is paid on as the body's rules say.",
    )


@role_required(Role.BROKER, Role.COMMISSIONER)
def funding_change(request, pk: int):
    """New shares of the fee from a date, filled in with the shares in force today."""
    placement = placement_record_get(actor=request.user, pk=pk).placement
    payers = placement_payers(placement=placement, on=timezone.localdate())
    initial = FundingChangeForm.initial_for(timezone.localdate(), payers.current.shares if payers.current else ())
    form = FundingChangeForm(
        request.POST or None,
        initial=initial,
        nhs_bodies=nhs_payer_list(),
    )

    def act(placement, data):
        funding_shares_change(
            placement=placement,
            effective_from=data["effective_from"],
            shares=form.shares(),
            reason=data["reason"],
            by=request.user,
        )

    shares_field = form.first_share_field() if form.is_bound and form.is_valid() else "share_1_weekly_amount"
    return _placement_action(
        request,
        pk,
        form,
        act,
        title="Change who pays",
        done="Who pays is changed from that date: new version of the agreement issued.",
        fields={"shares": shares_field},
    )


@role_required(*ALL_ROLES)
def agreement_download(request, pk: int):
    agreement = agreement_get(actor=request.user, pk=pk)
    response = HttpResponse(agreement_pdf(agreement), content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{agreement.reference}.pdf"'
    return response


@require_POST
@role_required(Role.PROVIDER)
def agreement_accept_view(request, pk: int):
    agreement = agreement_get(actor=request.user, pk=pk)
    try:
        agreement_accept(agreement=agreement, actor=request.user)
    except ACCESS_ERRORS:
        raise
    except ApplicationError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, f"You accepted agreement {agreement.reference}.")
    return redirect("contracts:agreement_detail", pk=agreement.pk)


def _placement_change(request, pk: int, form_class, record, title: str, done: str):
    agreement = agreement_get(actor=request.user, pk=pk)
    form = form_class(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            record(placement=agreement.placement, actor=request.user, **form.cleaned_data)
        except ApplicationError as error:
            apply_to_form(form, error)
        else:
            messages.success(request, done)
            current = agreement_versions(agreement=agreement).first()
            return redirect("contracts:agreement_detail", pk=current.pk)
    return render(request, "contracts/placement_change.html", {"form": form, "agreement": agreement, "title": title})


@role_required(Role.BROKER, Role.COMMISSIONER)
def fee_change(request, pk: int):
    return _placement_change(
        request, pk, FeeChangeForm, fee_change_record, "Record a fee change", "Fee change recorded: new version issued."
    )


@role_required(Role.BROKER, Role.COMMISSIONER)
def placement_end(request, pk: int):
    return _placement_change(
        request, pk, PlacementEndForm, placement_end_record, "Record the end of the placement", "End recorded."
    )


@role_required(Role.BROKER)
def top_up_agreement_new(request, pk: int):
    """The broker records the third party's signed top-up agreement and the affordability check."""
    placement_request = placement_request_get(actor=request.user, pk=pk)
    form = TopUpAgreementForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            top_up_agreement_record(request=placement_request, by=request.user, **form.cleaned_data)
        except ACCESS_ERRORS:
            raise
        except ApplicationError as error:
            apply_to_form(form, error)
        else:
            messages.success(request, "Top-up agreement recorded. You can now award the placement.")
            return redirect("placements:request_detail", pk=placement_request.pk)
    return render(
        request, "contracts/top_up_agreement_form.html", {"form": form, "placement_request": placement_request}
    )


@role_required(Role.BROKER, Role.COMMISSIONER)
def top_up_stop_view(request, pk: int):
    def stop(*, placement, actor, on, reason):
        return top_up_stop(placement=placement, on=on, by=actor, reason=reason)

    return _placement_change(
        request,
        pk,
        TopUpStopForm,
        stop,
        "The top-up payer has stopped paying",
        "The council's share covers the top-up from that date: new version issued.",
    )


@role_required(Role.COMMISSIONER, Role.BROKER)
def uplifts(request):
    filters = UpliftFilterForm(request.GET)
    rows = uplift_list(actor=request.user).order_by("-effective_from", "-pk")
    if status := filters.filters().get("status"):
        rows = rows.filter(status=status)
    if request.GET.get("format") == "csv":
        return csv_response(
            "fee-uplifts.csv",
            [
                "name",
                "basis",
                "effective_from",
                "rules",
                "status",
                "placements_uplifted",
                "block_contracts_uplifted",
                "applied_at",
            ],
            (
                [
                    u.name,
                    u.get_basis_display(),
                    u.effective_from,
                    "; ".join(str(r) for r in u.rules.all()),
                    u.get_status_display(),
                    u.placements_uplifted,
                    u.block_contracts_uplifted,
                    timezone.localtime(u.applied_at).isoformat() if u.applied_at else "",
                ]
                for u in rows
            ),
        )
    return render(request, "contracts/uplift_list.html", {"uplifts": list_page(request, rows), "filters": filters})


@role_required(Role.COMMISSIONER)
def uplift_new(request):
    form = UpliftForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            uplift = uplift_create(
                actor=request.user,
                name=form.cleaned_data["name"],
                basis=form.cleaned_data["basis"],
                basis_note=form.cleaned_data["basis_note"],
                effective_from=form.cleaned_data["effective_from"],
                rules=form.rules(),
            )
        except ApplicationError as error:
            apply_to_form(form, error)
        else:
            return redirect("contracts:uplift_detail", pk=uplift.pk)
    return render(request, "contracts/uplift_form.html", {"form": form})


@role_required(Role.COMMISSIONER, Role.BROKER)
def uplift_detail(request, pk: int):
    uplift = uplift_get(actor=request.user, pk=pk)
    if request.GET.get("format") == "json":
        # What the page's status section polls while the uplift is being applied.
        response = JsonResponse({"status": uplift.status, "message": _uplift_progress(uplift)})
        response["Cache-Control"] = "no-store"
        return response
    preview = uplift_preview(uplift=uplift) if uplift.status != uplift.Status.APPLIED else None
    if preview is not None and request.GET.get("format") == "csv":
        return csv_response(
            f"uplift-{uplift.pk}-preview.csv",
            [
                "lot",
                "placements",
                "old_weekly_total",
                "new_weekly_total",
                "block_contracts",
                "block_old_weekly_total",
                "block_new_weekly_total",
            ],
            [
                [
                    t.lot.number,
                    t.count,
                    t.old_weekly_total,
                    t.new_weekly_total,
                    t.block_count,
                    t.block_old_weekly_total,
                    t.block_new_weekly_total,
                ]
                for t in preview.lots
            ],
        )
    context = {
        "uplift": uplift,
        "preview": preview,
        "timeline": audit_timeline(target=uplift),
        "progress": _uplift_progress(uplift),
        "running": uplift.status == uplift.Status.QUEUED,
    }
    return render(request, "contracts/uplift_detail.html", context)


def _uplift_progress(uplift: Uplift) -> str:
    """One sentence on where the uplift's job is, for its page and the page's polling script."""
    if uplift.status == Uplift.Status.QUEUED:
        started = timezone.localtime(uplift.queued_at)
        minutes = int((timezone.now() - uplift.queued_at).total_seconds() // 60) if uplift.queued_at else 0
        waited = "less than a minute" if minutes < 1 else f"{minutes} minute{'s' if minutes != 1 else ''}"
        return (
            f"Being applied since {started:%H:%M} ({waited}). Every placement changes at once, "
            "or none does if something fails. This page updates when it is done."
        )
    if uplift.status == Uplift.Status.APPLIED:
        return (
            f"Applied on {timezone.localtime(uplift.applied_at):%-d %B %Y at %H:%M}: "
            f"{uplift.placements_uplifted} placement{'s' if uplift.placements_uplifted != 1 else ''} and "
            f"{uplift.block_contracts_uplifted} block contract{'s' if uplift.block_contracts_uplifted != 1 else ''} "
            "uplifted."
        )
    if uplift.status == Uplift.Status.FAILED:
        return "It failed and nothing was applied. You can apply it again."
    return "Not applied yet."


@role_required(Role.COMMISSIONER)
def uplift_apply_view(request, pk: int):
    """GET: what applying the uplift will change, with the button that applies it. POST: apply."""
    uplift = uplift_get(actor=request.user, pk=pk)
    if request.method != "POST":
        if uplift.status not in (Uplift.Status.DRAFT, Uplift.Status.FAILED):
            messages.error(request, "This uplift is already being applied or has been applied.")
            return redirect("contracts:uplift_detail", pk=uplift.pk)
        context = {"uplift": uplift, "preview": uplift_preview(uplift=uplift)}
        return render(request, "contracts/uplift_apply_confirm.html", context)
    try:
        uplift_queue(uplift=uplift, actor=request.user)
    except ACCESS_ERRORS:
        raise
    except ApplicationError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, "The uplift is being applied. This page shows when it is done.")
    return redirect("contracts:uplift_detail", pk=uplift.pk)


@role_required(*ALL_ROLES)
def payment_schedule(request):
    # Pages and filters of this week's schedule leave the period out of their links.
    form = PeriodForm(request.GET if "period" in request.GET else None)
    period = period_containing(timezone.localdate())
    if form.is_bound and form.is_valid():
        try:
            period = period_parse(form.cleaned_data["period"])
        except ApplicationError as error:
            apply_to_form(form, error)
    if not form.is_bound:
        form = PeriodForm(initial={"period": period.label})
    provider_view = request.user.is_provider_user
    schedule = payment_schedule_for(actor=request.user, period=period)
    filters = PaymentFilterForm(request.GET, schedule=schedule, provider_view=provider_view)
    schedule = payment_schedule_narrow(schedule, provider_view=provider_view, **filters.filters())
    # A refused period shows this week's schedule with the error, never a download of it.
    refused = bool(form.errors)
    if request.GET.get("format") == "csv" and not refused:
        return csv_response(f"payment-schedule-{period.start:%Y-%m-%d}.csv", CSV_HEADER, csv_rows(schedule))
    for shown in (form, filters):  # one GET form holds the period and the filters
        shown.helper.form_tag, shown.helper.inputs = False, []
    context = {"form": form, "filters": filters, "schedule": schedule, "lines": list_page(request, schedule.lines)}
    return render(request, "contracts/payment_schedule.html", context, status=400 if refused else 200)


# The commissioner's rules for who pays ------------------------------------------------------


@role_required(Role.COMMISSIONER)
def payment_rules_edit(request):
    """The body's absence and death payment rules, and who changed them when."""
    rules = payment_rules_for(request.user.organisation_id)
    initial = {
        "absence_full_weeks": rules.absence_full_weeks,
        "absence_reduced_percent": rules.absence_reduced_percent,
        "death_paid_days": rules.death_paid_days,
    }
    form = PaymentRulesForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            payment_rules_update(by=request.user, **form.cleaned_data)
        except ApplicationError as error:
            apply_to_form(form, error)
        else:
            messages.success(request, "Payment rules saved: the next payment schedules follow them.")
            return redirect("contracts:payment_rules")
    context = {"form": form, "rules": rules, "timeline": audit_timeline(target=rules) if rules.pk else []}
    return render(request, "contracts/payment_rules.html", context, status=400 if form.errors else 200)


@role_required(Role.COMMISSIONER)
def fnc_rates(request):
    """The national FNC rates and where applying each has got to; a new rate from a date is applied
    to every nursing placement with an FNC share by a queued task."""
    form = FncRateForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            with transaction.atomic():
                rate = fnc_rate_record(by=request.user, **form.cleaned_data)
                fnc_rate_queue(rate=rate, by=request.user)
        except ApplicationError as error:
            apply_to_form(form, error)
        else:
            messages.success(request, f"{rate} recorded: the nursing placements are being moved to it.")
            return redirect("contracts:fnc_rates")
    rows = fnc_rate_rows()
    if request.GET.get("format") == "csv":
        return csv_response(
            "fnc-rates.csv",
            ["effective_from", "weekly_rate", "note", "status"],
            ([r.rate.effective_from, r.rate.weekly_rate, r.rate.note, r.status] for r in rows),
        )
    return render(request, "contracts/fnc_rates.html", {"form": form, "rows": rows}, status=400 if form.errors else 200)


@role_required(Role.COMMISSIONER, Role.BROKER)
def outcome_rules(request):
    rows = outcome_rule_list(actor=request.user)
    if request.GET.get("format") == "csv":
        return csv_response(
            "outcome-payment-rules.csv",
            ["description", "outcome", "lot", "block_contract", "amount", "within_assessment_period"],
            (
                [
                    r.description,
                    r.outcome,
                    r.lot.number if r.lot_id else "",
                    r.block_contract.reference if r.block_contract_id else "",
                    r.amount,
                    "yes" if r.within_assessment_period else "no",
                ]
                for r in rows
            ),
        )
    outcomes = dict(Placement.AssessmentOutcome.choices)
    context = {
        "rules": [(r, outcomes.get(r.outcome, r.outcome)) for r in rows],
        "can_create": request.user.role == Role.COMMISSIONER,
    }
    return render(request, "contracts/outcome_rules.html", context)


@role_required(Role.COMMISSIONER)
def outcome_rule_new(request):
    form = OutcomeRuleForm(
        request.POST or None,
        outcomes=Placement.AssessmentOutcome.choices,
        block_contracts=block_contract_list(actor=request.user),
    )
    if request.method == "POST" and form.is_valid():
        try:
            outcome_rule_create(by=request.user, **form.cleaned_data)
        except ApplicationError as error:
            apply_to_form(form, error)
        else:
            messages.success(request, "Outcome payment rule created.")
            return redirect("contracts:outcome_rules")
    return render(request, "contracts/outcome_rule_form.html", {"form": form}, status=400 if form.errors else 200)
