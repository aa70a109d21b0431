"""A home's CQC rating history and the form back-office staff use to enter the CQC's report by hand;
the commissioner's contract monitoring pages."""

from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from core.csv_export import csv_response
from core.errors import ApplicationError, apply_to_form
from organisations.decorators import role_required
from organisations.models import Role
from organisations.permissions import is_commissioner, is_provider_user
from providers.notices import home_notices, home_risks
from providers.selectors import care_home_get_for_provider

from .forms import (
    ConcernForm,
    ConcernUpdateForm,
    EmbargoLiftForm,
    EmbargoPlaceForm,
    ImprovementActionForm,
    ImprovementActionUpdateForm,
    MonitoringQuestionForm,
    MonitoringScaleForm,
    MonitoringVisitForm,
    ProviderReturnForm,
    QualityScoringRuleForm,
    RatingForm,
    ReturnMeasureForm,
)
from .models import (
    KEY_QUESTIONS,
    QUALITY_PARTS,
    Concern,
    ImprovementAction,
    MonitoringQuestion,
    Rating,
    ReturnMeasure,
)
from .permissions import can_enter_rating
from .selectors import (
    RETURN_DUE_DAYS,
    care_home_get_for_quality,
    care_home_get_for_ratings,
    concern_get,
    concerns_of,
    embargo_in_force,
    embargo_reviews_due,
    improvement_action_get,
    improvement_actions_of,
    latest_monitoring_scores,
    monitoring_framework_of,
    monitoring_visits_of,
    provider_return_get,
    provider_returns_of_body,
    provider_returns_of_home,
    quality_homes_for,
    quality_scoring_rules_of,
    return_bodies_for_home,
    return_measures_asked,
    returns_outstanding,
)
from .services import (
    concern_embargo_lift,
    concern_embargo_place,
    concern_record,
    concern_update,
    improvement_action_add,
    improvement_action_update,
    monitoring_framework_start,
    monitoring_question_add,
    monitoring_question_retire,
    monitoring_scale_set,
    monitoring_visit_record,
    provider_return_accept,
    provider_return_submit,
    quality_scoring_rule_set,
    rating_record,
    return_measure_add,
    return_measure_retire,
    return_measures_for_home,
    return_measures_start,
)

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


# --- Contract monitoring ------------------------------------------------------------------------


def _csv_wanted(request) -> bool:
    return request.GET.get("format") == "csv"


@role_required(Role.COMMISSIONER)
def monitoring(request):
    """The homes on the body's DPS with their latest monitoring score."""
    homes = list(quality_homes_for(actor=request.user).select_related("current_rating").order_by("name", "pk"))
    latest = latest_monitoring_scores(commissioner_id=request.user.organisation_id, care_home_ids=[h.pk for h in homes])
    risks = home_risks(actor=request.user, care_home_ids=[h.pk for h in homes])
    for home in homes:
        home.latest_visit = latest.get(home.pk)
        home.risk = risks.get(home.pk)
    if _csv_wanted(request):
        rows = (
            [
                h.cqc_location_id,
                h.name,
                h.current_rating.overall if h.current_rating else "",
                h.latest_visit.visited_on if h.latest_visit else "",
                h.latest_visit.score if h.latest_visit else "",
                h.risk.rating if h.risk else "",
            ]
            for h in homes
        )
        return csv_response(
            "monitoring.csv", ["cqc_location_id", "name", "cqc_overall", "last_visit", "monitoring_score", "risk"], rows
        )
    due = embargo_reviews_due(actor=request.user).order_by("embargo__review_on", "pk")
    return render(request, "quality/monitoring.html", {"homes": homes, "reviews_due": due})


@role_required(Role.COMMISSIONER)
def framework(request):
    user = request.user
    current = monitoring_framework_of(actor=user)
    questions = list(current.questions.all()) if current else []
    if _csv_wanted(request):
        rows = ([q.position, q.domain, q.text, "retired" if q.retired_at else "current"] for q in questions)
        return csv_response("monitoring-questions.csv", ["position", "domain", "question", "state"], rows)
    question_form = MonitoringQuestionForm(request.POST if "add_question" in request.POST else None)
    scale_form = MonitoringScaleForm(
        request.POST if "set_scale" in request.POST else None,
        initial={"scale_max": current.scale_max if current else 4},
    )
    if request.method == "POST":
        try:
            if "start" in request.POST:
                monitoring_framework_start(actor=user)
                messages.success(request, "Your framework starts from the default domains and questions.")
                return redirect("quality:framework")
            if "add_question" in request.POST and question_form.is_valid():
                monitoring_question_add(actor=user, **question_form.cleaned_data)
                messages.success(request, "Question added.")
                return redirect("quality:framework")
            if "set_scale" in request.POST and scale_form.is_valid():
                monitoring_scale_set(actor=user, scale_max=scale_form.cleaned_data["scale_max"])
                messages.success(request, "Scale saved.")
                return redirect("quality:framework")
        except ApplicationError as error:
            apply_to_form(scale_form if "set_scale" in request.POST else question_form, error)
    context = {"framework": current, "questions": questions, "question_form": question_form, "scale_form": scale_form}
    return render(request, "quality/framework.html", context)


@role_required(Role.COMMISSIONER)
@require_POST
def question_retire(request, pk: int):
    question = MonitoringQuestion.objects.filter(pk=pk, framework__commissioner_id=request.user.organisation_id).first()
    if question is None:
        raise Http404("No such question.")
    monitoring_question_retire(actor=request.user, question=question)
    messages.success(request, "Question retired: later visits no longer ask it.")
    return redirect("quality:framework")


@role_required(Role.COMMISSIONER)
def home_quality(request, pk: int):
    """The commissioner's page of one home: monitoring visits and their scores."""
    home = care_home_get_for_quality(actor=request.user, pk=pk)
    visits = list(monitoring_visits_of(actor=request.user, care_home=home))
    if _csv_wanted(request):
        rows = ([v.visited_on, v.visitor, v.score, v.scale_max, v.findings, v.recorded_at] for v in visits)
        return csv_response(
            f"monitoring-{home.cqc_location_id}.csv",
            ["visited_on", "visitor", "score", "scale_max", "findings", "recorded_at"],
            rows,
        )
    held = concerns_of(actor=request.user, care_home=home)
    context = {
        "home": home,
        "visits": visits,
        "latest": visits[0] if visits else None,
        "open_concerns": held.exclude(status=Concern.Status.CLOSED).count(),
        "embargoes": [c for c in held.filter(embargo__isnull=False) if embargo_in_force(c)],
        "today": timezone.localdate(),
        "notices": home_notices(actor=request.user, care_home=home),
        "risk": home_risks(actor=request.user, care_home_ids=[home.pk]).get(home.pk),
    }
    return render(request, "quality/home_quality.html", context)


@role_required(Role.COMMISSIONER)
def visit_record(request, pk: int):
    home = care_home_get_for_quality(actor=request.user, pk=pk)
    current = monitoring_framework_of(actor=request.user)
    questions = list(current.questions.filter(retired_at__isnull=True)) if current else []
    form = MonitoringVisitForm(request.POST or None, questions=questions, scale_max=current.scale_max if current else 4)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            visit = monitoring_visit_record(
                actor=request.user,
                care_home=home,
                visited_on=data["visited_on"],
                visitor=data["visitor"],
                findings=data["findings"],
                scores=form.scores(),
            )
        except ApplicationError as error:
            apply_to_form(form, error)
        else:
            messages.success(request, f"Visit recorded: score {visit.score} out of 100.")
            return redirect("quality:home", pk=home.pk)
    return render(request, "quality/visit_record.html", {"home": home, "form": form, "framework": current})


# --- Complaints and safeguarding concerns -------------------------------------------------------


@role_required(Role.COMMISSIONER)
def concerns(request, pk: int):
    """A home's complaints and safeguarding concerns held by the body, and the form to record one."""
    home = care_home_get_for_quality(actor=request.user, pk=pk)
    listed = list(concerns_of(actor=request.user, care_home=home))
    today = timezone.localdate()
    if _csv_wanted(request):
        rows = (
            [
                c.reference,
                c.get_kind_display(),
                c.received_on,
                c.get_category_display(),
                c.get_severity_display(),
                c.get_status_display(),
                c.get_outcome_display() if c.outcome else "",
                c.embargo.review_on if c.embargo else "",
                c.embargo.lifted_at if c.embargo else "",
            ]
            for c in listed
        )
        header = [
            "reference",
            "kind",
            "received_on",
            "category",
            "severity",
            "status",
            "outcome",
            "embargo_review_on",
            "embargo_lifted_at",
        ]
        return csv_response(f"concerns-{home.cqc_location_id}.csv", header, rows)
    form = ConcernForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            concern = concern_record(actor=request.user, care_home=home, **form.cleaned_data)
        except ApplicationError as error:
            apply_to_form(form, error)
        else:
            words = f"Concern {concern.reference} recorded."
            if concern.embargo_id:
                words += f" {home.name} is under embargo for your body until a decision lifts it."
            messages.success(request, words)
            return redirect("quality:concerns", pk=home.pk)
    return render(request, "quality/concerns.html", {"home": home, "concerns": listed, "form": form, "today": today})


@role_required(Role.COMMISSIONER)
def concern(request, pk: int):
    """One concern: its status and outcome, and its embargo placed or lifted by a recorded decision."""
    item = concern_get(actor=request.user, pk=pk)
    action = next((name for name in ("update", "place", "lift") if name in request.POST), None)
    update_form = ConcernUpdateForm(
        request.POST if action == "update" else None, initial={"status": item.status, "outcome": item.outcome}
    )
    place_form = EmbargoPlaceForm(request.POST if action == "place" else None)
    lift_form = EmbargoLiftForm(request.POST if action == "lift" else None)
    form = {"update": update_form, "place": place_form, "lift": lift_form}.get(action)
    if form is not None and form.is_valid():
        data = form.cleaned_data
        try:
            if action == "update":
                concern_update(actor=request.user, concern=item, **data)
                messages.success(request, "Concern updated.")
            elif action == "place":
                concern_embargo_place(actor=request.user, concern=item, review_on=data["review_on"])
                messages.success(request, "Embargo placed.")
            else:
                concern_embargo_lift(actor=request.user, concern=item, decision=data["decision"])
                messages.success(request, "Embargo lifted: the home may be invited to your tenders again.")
        except ApplicationError as error:
            apply_to_form(form, error)
        else:
            return redirect("quality:concern", pk=item.pk)
    context = {
        "concern": item,
        "home": item.care_home,
        "embargo_in_force": embargo_in_force(item),
        "review_due": item.embargo is not None and item.embargo.review_on <= timezone.localdate(),
        "update_form": update_form,
        "place_form": place_form,
        "lift_form": lift_form,
    }
    return render(request, "quality/concern.html", context)


# --- Improvement plans ---------------------------------------------------------------------------

ACTION_CSV_HEADER = ["body", "action", "owner", "agreed_on", "due_on", "status", "overdue", "completed_on", "progress"]


def _plan_rows(actions, today):
    for a in actions:
        overdue = a.due_on < today and a.status != ImprovementAction.Status.DONE
        yield [
            a.commissioner.name,
            a.action,
            a.owner,
            a.agreed_on,
            a.due_on,
            a.get_status_display(),
            "yes" if overdue else "no",
            a.completed_on or "",
            a.progress_note,
        ]


def _plan_page(request, home, template: str, form=None):
    actions = list(improvement_actions_of(actor=request.user, care_home=home))
    today = timezone.localdate()
    if _csv_wanted(request):
        return csv_response(
            f"improvement-plan-{home.cqc_location_id}.csv", ACTION_CSV_HEADER, _plan_rows(actions, today)
        )
    for a in actions:
        a.overdue = a.due_on < today and a.status != ImprovementAction.Status.DONE
    context = {
        "home": home,
        "actions": actions,
        "form": form,
        "notices": home_notices(actor=request.user, care_home=home),
    }
    return render(request, template, context)


@role_required(Role.COMMISSIONER)
def plan(request, pk: int):
    """The body's improvement plan for a home: actions agreed with the provider, tracked to completion."""
    home = care_home_get_for_quality(actor=request.user, pk=pk)
    form = ImprovementActionForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            improvement_action_add(actor=request.user, care_home=home, **form.cleaned_data)
        except ApplicationError as error:
            apply_to_form(form, error)
        else:
            messages.success(request, "Action added to the improvement plan.")
            return redirect("quality:plan", pk=home.pk)
    return _plan_page(request, home, "quality/plan.html", form)


@role_required(Role.PROVIDER)
def provider_plan(request, pk: int):
    """Every body's improvement plan for one of the provider's own homes."""
    home = care_home_get_for_provider(actor=request.user, pk=pk)
    return _plan_page(request, home, "quality/provider_plan.html")


@role_required(Role.COMMISSIONER, Role.PROVIDER)
def action_update(request, pk: int):
    item = improvement_action_get(actor=request.user, pk=pk)
    form = ImprovementActionUpdateForm(request.POST or None, initial={"status": item.status})
    if request.method == "POST" and form.is_valid():
        try:
            improvement_action_update(actor=request.user, action=item, **form.cleaned_data)
        except ApplicationError as error:
            apply_to_form(form, error)
        else:
            messages.success(request, "Progress saved.")
            back = "quality:provider_plan" if is_provider_user(request.user) else "quality:plan"
            return redirect(back, pk=item.care_home_id)
    back = "quality:provider_plan" if is_provider_user(request.user) else "quality:plan"
    return render(request, "quality/action_update.html", {"item": item, "form": form, "back": back})


# --- How quality is scored --------------------------------------------------------------------------

SCORING_CSV_HEADER = ["lot", "lot_name", *QUALITY_PARTS, "saved"]


@role_required(Role.COMMISSIONER)
def scoring_rules(request):
    """How the body scores quality for each lot."""
    rules = quality_scoring_rules_of(actor=request.user)
    if _csv_wanted(request):
        rows = ([r.lot.number, r.lot.name, *r.weights().values(), "yes" if r.pk else "default"] for r in rules)
        return csv_response("quality-scoring.csv", SCORING_CSV_HEADER, rows)
    return render(request, "quality/scoring_rules.html", {"rules": rules})


@role_required(Role.COMMISSIONER)
def scoring_rule_edit(request, number: int):
    rule = next((r for r in quality_scoring_rules_of(actor=request.user) if r.lot.number == number), None)
    if rule is None:
        raise Http404("No such lot.")
    form = QualityScoringRuleForm(request.POST or None, initial=rule.weights())
    if request.method == "POST" and form.is_valid():
        try:
            quality_scoring_rule_set(actor=request.user, lot=rule.lot, weights=form.cleaned_data)
        except ApplicationError as error:
            apply_to_form(form, error)
        else:
            messages.success(request, f"Quality scoring saved for lot {number}. Tenders already published keep theirs.")
            return redirect("quality:scoring_rules")
    return render(request, "quality/scoring_rule_edit.html", {"rule": rule, "form": form})


# --- Provider returns ------------------------------------------------------------------------------

RETURNS_CSV_HEADER = [
    "care_home",
    "cqc_location_id",
    "period",
    "period_kind",
    "submitted_at",
    "submitted_by",
    "accepted",
]


def _return_row(item) -> list:
    return [
        item.care_home.name,
        item.care_home.cqc_location_id,
        item.period,
        item.get_period_kind_display(),
        timezone.localtime(item.submitted_at).strftime("%Y-%m-%d %H:%M"),
        item.submitted_by or "",
        "yes" if item.accepted_at else "no",
    ]


@role_required(Role.PROVIDER)
def provider_returns(request, pk: int):
    """Submit a return for one of the provider's own homes to a body whose DPS it is on; the home's returns."""
    home = care_home_get_for_provider(actor=request.user, pk=pk)
    bodies = list(return_bodies_for_home(care_home=home))
    chosen = request.POST.get("body") or request.GET.get("body")
    body = next((b for b in bodies if str(b.pk) == chosen), bodies[0] if len(bodies) == 1 else None)
    returns = provider_returns_of_home(actor=request.user, care_home=home)
    if _csv_wanted(request):
        return csv_response(
            f"returns-{home.cqc_location_id}.csv",
            ["body", *RETURNS_CSV_HEADER[2:]],
            ([r.commissioner.name, *_return_row(r)[2:]] for r in returns),
        )
    form = None
    if body is not None:
        if request.method == "POST":
            # Answers are kept against the body's own measures: a body still on the default set
            # keeps it now (showing the form writes nothing).
            return_measures_start(commissioner=body, actor=request.user)
        measures = return_measures_for_home(commissioner=body, care_home=home)
        form = ProviderReturnForm(request.POST or None, measures=measures)
        form.helper.form_action = f"?body={body.pk}"
        if request.method == "POST" and form.is_valid():
            answers = {name: value for name, value in form.cleaned_data.items() if name != "period"}
            try:
                item = provider_return_submit(
                    actor=request.user,
                    care_home=home,
                    commissioner=body,
                    period=form.cleaned_data["period"],
                    answers=answers,
                )
            except ApplicationError as error:
                apply_to_form(form, error)
            else:
                messages.success(request, f"Return for {item.period} sent to {body.name}.")
                return redirect("quality:provider_returns", pk=home.pk)
    return render(
        request,
        "quality/provider_returns.html",
        {"home": home, "bodies": bodies, "body": body, "form": form, "returns": returns},
    )


@role_required(Role.COMMISSIONER)
def body_returns(request):
    """The returns the homes on the body's DPS have sent it, and those they owe for the last ended
    quarter and year (CSV: `?format=csv` and `?format=csv&owed=1`)."""
    returns = provider_returns_of_body(actor=request.user)
    owed = returns_outstanding(on=timezone.localdate(), commissioner_id=request.user.organisation_id)
    if _csv_wanted(request) and request.GET.get("owed"):
        rows = (
            [o.care_home.name, o.care_home.cqc_location_id, o.period.period, o.period.kind, o.period.due_on]
            for o in owed
        )
        return csv_response(
            "provider-returns-owed.csv", ["care_home", "cqc_location_id", "period", "period_kind", "due_on"], rows
        )
    if _csv_wanted(request):
        return csv_response("provider-returns.csv", RETURNS_CSV_HEADER, (_return_row(r) for r in returns))
    context = {"returns": returns, "owed": owed, "today": timezone.localdate()}
    return render(request, "quality/body_returns.html", context)


MEASURES_CSV_HEADER = ["position", "measure", "kind", "unit", "lot", "required", "state"]


@role_required(Role.COMMISSIONER)
def return_measures(request):
    """The figures the body asks its DPS homes for in their returns: add one, or retire one."""
    measures = return_measures_asked(actor=request.user)  # the default set until the body keeps its own
    if _csv_wanted(request):
        rows = (
            [
                m.position,
                m.name,
                m.get_kind_display(),
                m.unit,
                m.lot.number if m.lot_id else "all",
                "yes" if m.required else "no",
                "current" if m.active else "retired",
            ]
            for m in measures
        )
        return csv_response("return-measures.csv", MEASURES_CSV_HEADER, rows)
    if request.method == "POST" and "start" in request.POST:
        return_measures_start(commissioner=request.user.organisation, actor=request.user)
        messages.success(request, "You now keep your own set, starting from the default measures.")
        return redirect("quality:return_measures")
    form = ReturnMeasureForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            measure = return_measure_add(actor=request.user, **form.cleaned_data)
        except ApplicationError as error:
            apply_to_form(form, error)
        else:
            messages.success(request, f"{measure.name} added: returns from now on ask for it.")
            return redirect("quality:return_measures")
    context = {"measures": measures, "form": form, "due_days": RETURN_DUE_DAYS}
    return render(request, "quality/return_measures.html", context)


@role_required(Role.COMMISSIONER)
@require_POST
def return_measure_retire_view(request, pk: int):
    # The service finds the measure among the body's own (another body's, or none: not found).
    measure = return_measure_retire(actor=request.user, measure=ReturnMeasure(pk=pk))
    messages.success(request, f"{measure.name} retired: later returns leave it out.")
    return redirect("quality:return_measures")


@role_required(Role.COMMISSIONER, Role.PROVIDER)
def return_detail(request, pk: int):
    item = provider_return_get(actor=request.user, pk=pk)
    answers = item.answers.select_related("measure")
    if _csv_wanted(request):
        rows = ([a.measure.name, a.measure.unit, a.value] for a in answers)
        return csv_response(f"return-{item.pk}.csv", ["measure", "unit", "value"], rows)
    if request.method == "POST":
        if is_provider_user(request.user):
            raise PermissionDenied("Only the body accepts a return.")
        provider_return_accept(actor=request.user, provider_return=item)
        messages.success(request, "Return accepted.")
        return redirect("quality:return_detail", pk=item.pk)
    return render(request, "quality/return_detail.html", {"item": item, "answers": answers})
