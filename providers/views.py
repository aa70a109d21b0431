"""Pages: the provider portal (homes, applications, vacancies), the commissioner's queue,
decisions and suspensions, and the care-home search for brokers."""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.views import PasswordResetConfirmView
from django.http import FileResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse_lazy
from django.utils import timezone
from django.views.decorators.http import require_POST

from core.csv_export import csv_response
from core.errors import ACCESS_ERRORS, ApplicationError, apply_to_form
from core.lists import list_page
from organisations.decorators import role_required
from organisations.models import Role
from organisations.permissions import is_provider_user
from organisations.signin import address_budget_spend, client_address, wait_text

from . import selectors, services
from .forms import (
    AdmissionClosureForm,
    ApplicationForm,
    BedVacancyFormSet,
    BedVacancySearchForm,
    CareHomeAddForm,
    CareHomeSearchForm,
    DecisionForm,
    DocumentRequirementForm,
    DocumentUploadForm,
    EmbargoForm,
    ProviderInviteForm,
    QuestionForm,
    ReasonForm,
    SignUpForm,
    VacancyFormSet,
    WindowForm,
)
from .list_filters import AdmissionFilterForm, ApplicationFilterForm, CareHomeNameFilterForm, MemberFilterForm
from .models import Admission, ApplicationWindow, CareHome
from .notices import home_notices, home_risks

# The states of a closure that can still be lifted (see `selectors.admission_closure_state`).
LIFTABLE = ("Closed", "Starts later")


def _wants_csv(request) -> bool:
    return request.GET.get("format") == "csv"


def _local(value):
    return timezone.localtime(value).strftime("%Y-%m-%d %H:%M") if value else ""


# Provider portal


@role_required(Role.PROVIDER)
def my_homes(request):
    filters = CareHomeNameFilterForm(request.GET)
    homes = filters.apply(selectors.care_home_list_for_provider(actor=request.user), home_path="")
    stale_before = selectors.vacancy_stale_before()
    if _wants_csv(request):
        rows = (
            [
                h.cqc_location_id,
                h.name,
                h.postcode,
                h.setting_label,
                h.registered_beds,
                h.current_rating.overall if h.current_rating else "Not yet rated",
                h.beds_free,
                _local(h.vacancies_confirmed_at),
            ]
            for h in homes
        )
        header = ["cqc_location_id", "name", "postcode", "setting", "beds", "rating", "beds_free", "confirmed"]
        return csv_response("my-care-homes.csv", header, rows)
    context = {"homes": list_page(request, homes), "stale_before": stale_before, "filters": filters}
    return render(request, "providers/my_homes.html", context)


@role_required(Role.PROVIDER)
def home_add(request):
    form = CareHomeAddForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            home = services.care_home_add(actor=request.user, **form.cleaned_data)
        except ApplicationError as error:
            apply_to_form(form, error)
        else:
            messages.success(request, f"{home.name} is on your list.")
            return redirect("providers:home_detail", pk=home.pk)
    return render(request, "providers/home_add.html", {"form": form})


@role_required(Role.PROVIDER)
def home_detail(request, pk: int):
    home = selectors.care_home_get_for_provider(actor=request.user, pk=pk)
    admissions = selectors.admissions_for_provider(actor=request.user).filter(care_home=home)
    now = timezone.now()
    bed_vacancies = list(selectors.bed_vacancies_for_home(care_home=home))
    fresh_hours = selectors.vacancy_fresh_hours_for()
    for vacancy in bed_vacancies:
        vacancy.fresh = selectors.bed_vacancy_is_fresh(vacancy, fresh_hours=fresh_hours, at=now)
    in_force = selectors.admission_closure_in_force_q(at=now)
    closures = list(selectors.admission_closures_for_home(care_home=home).filter(in_force))
    context = {
        "home": home,
        "admissions": admissions,
        "vacancies": selectors.vacancies_for_home(care_home=home),
        "stale": home.vacancies_confirmed_at is None or home.vacancies_confirmed_at < selectors.vacancy_stale_before(),
        "bed_vacancies": bed_vacancies,
        "fresh_hours": fresh_hours,
        "closures_now": closures,
        "notices": home_notices(actor=request.user, care_home=home),
    }
    return render(request, "providers/home_detail.html", context)


@role_required(Role.PROVIDER)
def home_apply(request, pk: int):
    home = selectors.care_home_get_for_provider(actor=request.user, pk=pk)
    body = selectors.commissioning_body_chosen(request.POST.get("commissioner") or request.GET.get("commissioner"))
    questions = selectors.selection_questions_of(commissioner=body)
    form = ApplicationForm(request.POST or None, questions=questions, initial={"commissioner": body})
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        declarations = services.Declarations(
            insurance_confirmed=data["insurance_confirmed"],
            insurance_expires_on=data["insurance_expires_on"],
            terms_accepted=data["terms_accepted"],
            weekly_fee=data["weekly_fee"],
        )
        try:
            services.admission_apply(
                actor=request.user,
                care_home=home,
                commissioner=data["commissioner"],
                lots=list(data["lots"]),
                declarations=declarations,
                answers=form.answers(),
            )
        except ApplicationError as error:
            apply_to_form(form, error)
        else:
            messages.success(request, f"Application sent to {data['commissioner']}.")
            return redirect("providers:my_applications")
    context = {"form": form, "home": home, "body": body, "bodies": selectors.commissioning_bodies()}
    return render(request, "providers/home_apply.html", context)


@role_required(Role.PROVIDER)
def home_vacancies(request, pk: int):
    home = selectors.care_home_get_for_provider(actor=request.user, pk=pk)
    current = selectors.vacancies_for_home(care_home=home)
    initial = [
        {
            "lot": v.lot,
            "setting": v.setting,
            "beds_free": v.beds_free,
            "available_from": v.available_from,
            "notes": v.notes,
        }
        for v in current
    ]
    formset = VacancyFormSet(request.POST or None, initial=initial)
    fields = ["lot", "setting", "beds_free", "available_from", "notes"]
    return _vacancies_save(
        request,
        home,
        formset,
        item=lambda data: services.VacancyInput(**{name: data[name] for name in fields}),
        replace=services.vacancies_replace,
        saved="Vacancies saved and confirmed as current.",
        template="providers/home_vacancies.html",
    )


def _vacancies_save(request, home, formset, *, item, replace, saved: str, template: str):
    """A posted formset of the home's vacancy rows replaces them through `replace` (which
    confirms them as current); a refusal shows on the page with the rows as entered."""
    if request.method == "POST" and formset.is_valid():
        items = [
            item(form.cleaned_data) for form in formset if form.cleaned_data and not form.cleaned_data.get("DELETE")
        ]
        try:
            replace(actor=request.user, care_home=home, vacancies=items)
        except ACCESS_ERRORS:
            raise
        except ApplicationError as error:
            messages.error(request, error.message)
        else:
            messages.success(request, saved)
            return redirect("providers:home_detail", pk=home.pk)
    return render(request, template, {"home": home, "formset": formset})


@role_required(Role.PROVIDER)
def home_bed_vacancies(request, pk: int):
    """The home's free beds by kind; saving replaces them and confirms them as current."""
    home = selectors.care_home_get_for_provider(actor=request.user, pk=pk)
    current = list(selectors.bed_vacancies_for_home(care_home=home))
    fields = ["lot", "setting", "room_type", "en_suite", "ground_floor", "bariatric", "gender", "beds", "notes"]
    initial = [{name: getattr(v, name) for name in fields} for v in current]
    formset = BedVacancyFormSet(request.POST or None, initial=initial, prefix="beds")
    return _vacancies_save(
        request,
        home,
        formset,
        item=lambda data: services.BedVacancyInput(**{name: data[name] for name in fields}),
        replace=services.bed_vacancies_replace,
        saved="Bed vacancies saved and confirmed as current.",
        template="providers/home_bed_vacancies.html",
    )


@role_required(Role.PROVIDER)
@require_POST
def home_bed_vacancies_confirm(request, pk: int):
    """One click: "no change", every bed vacancy of the home confirmed as current now."""
    home = selectors.care_home_get_for_provider(actor=request.user, pk=pk)
    count = services.bed_vacancies_confirm(actor=request.user, care_home=home)
    if count:
        messages.success(request, f"{home.name}: {count} bed vacancy rows confirmed as current.")
    else:
        messages.success(request, f"{home.name}: confirmed that no beds are free.")
    return redirect("providers:home_detail", pk=home.pk)


@role_required(Role.PROVIDER)
def home_closures(request, pk: int):
    """Close the home to admissions (for every body), and its closures past and present."""
    home = selectors.care_home_get_for_provider(actor=request.user, pk=pk)
    form = AdmissionClosureForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        starts_at, ends_at = form.times()
        try:
            services.admission_closure_open(
                actor=request.user,
                care_home=home,
                reason=form.cleaned_data["reason"],
                details=form.cleaned_data["details"],
                starts_at=starts_at,
                ends_at=ends_at,
                review_on=form.cleaned_data["review_on"],
            )
        except ApplicationError as error:
            _closure_errors_to_form(form, error)
        else:
            messages.success(request, f"{home.name} is closed to admissions.")
            return redirect("providers:home_closures", pk=home.pk)
    closures = list(selectors.admission_closures_for_home(care_home=home))
    now = timezone.now()
    for closure in closures:
        closure.state = selectors.admission_closure_state(closure, at=now)
        closure.can_lift = closure.state in LIFTABLE and closure.commissioner_id is None
    return render(request, "providers/home_closures.html", {"home": home, "form": form, "closures": closures})


def _closure_errors_to_form(form, error: ApplicationError) -> None:
    """The service names moments (starts_at, ends_at); the form asks for days."""
    renamed = {"starts_at": "starts_on", "ends_at": "ends_on"}
    error.fields = {renamed.get(name, name): messages for name, messages in error.fields.items()}
    apply_to_form(form, error)


@role_required(Role.PROVIDER, Role.COMMISSIONER)
def closure_lift(request, pk: int):
    """Lift a closure: the provider its home's closures for every body, a commissioner its embargo."""
    closure = get_object_or_404(selectors.admission_closures_liftable_by(actor=request.user), pk=pk)
    form = ReasonForm(request.POST or None, button="Lift the closure")
    form.fields["reason"].label = "Why can the home take admissions again?"
    if request.method == "POST" and form.is_valid():
        try:
            services.admission_closure_lift(actor=request.user, closure=closure, reason=form.cleaned_data["reason"])
        except ApplicationError as error:
            apply_to_form(form, error)
        else:
            messages.success(request, f"{closure.care_home.name} is open to admissions again.")
            if is_provider_user(request.user):
                return redirect("providers:home_closures", pk=closure.care_home_id)
            return redirect("providers:embargoes")
    return render(request, "providers/closure_lift.html", {"closure": closure, "form": form})


@role_required(Role.PROVIDER)
def my_applications(request):
    filters = ApplicationFilterForm(request.GET)
    admissions = filters.apply(
        selectors.admissions_for_provider(actor=request.user).order_by("care_home__name", "lot__number", "pk")
    )
    if _wants_csv(request):
        rows = (
            [
                a.care_home.name,
                a.commissioner.name,
                a.lot.number,
                a.get_status_display(),
                _local(a.applied_at),
                a.decision_reason,
            ]
            for a in admissions
        )
        header = ["home", "commissioner", "lot", "status", "applied_at", "decision_reason"]
        return csv_response("my-applications.csv", header, rows)
    context = {"admissions": list_page(request, admissions), "filters": filters}
    return render(request, "providers/my_applications.html", context)


# Commissioners


@role_required(Role.COMMISSIONER)
def application_queue(request):
    filters = AdmissionFilterForm(request.GET)
    queue = filters.apply(selectors.application_queue(actor=request.user).order_by("applied_at", "pk"))
    if _wants_csv(request):
        rows = (
            [
                a.care_home.name,
                a.care_home.cqc_location_id,
                a.care_home.provider.name,
                a.lot.number,
                a.care_home.current_rating.overall if a.care_home.current_rating else "Not yet rated",
                a.weekly_fee,
                a.insurance_expires_on,
                _local(a.applied_at),
            ]
            for a in queue
        )
        header = ["home", "cqc_location_id", "provider", "lot", "rating", "weekly_fee", "insurance_expires", "applied"]
        return csv_response("application-queue.csv", header, rows)
    return render(request, "providers/application_queue.html", {"queue": list_page(request, queue), "filters": filters})


@role_required(Role.COMMISSIONER)
def application_decide(request, pk: int):
    admission = selectors.admission_get_for_commissioner(actor=request.user, pk=pk)
    form = DecisionForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        admit = form.cleaned_data["decision"] == "admit"
        try:
            services.admission_decide(
                actor=request.user, admission=admission, admit=admit, reason=form.cleaned_data["reason"]
            )
        except ApplicationError as error:
            apply_to_form(form, error)
        else:
            verb = "admitted" if admit else "rejected"
            messages.success(request, f"{admission.care_home.name} {verb} on lot {admission.lot.number}.")
            return redirect("providers:application_queue")
    context = {
        "admission": admission,
        "form": form,
        "events": admission.events.select_related("actor"),
        "answers": [
            (answer, selectors.answer_meets(answer.question, answer.answer))
            for answer in admission.answers.select_related("question")
        ],
        "documents": selectors.current_documents(care_home=admission.care_home),
        "failures": selectors.selection_failures(admission=admission, on=timezone.localdate()),
        "today": timezone.localdate(),
    }
    return render(request, "providers/application_decide.html", context)


@role_required(Role.COMMISSIONER)
def members(request):
    filters = MemberFilterForm(request.GET)
    admissions = filters.apply(
        selectors.admissions_for_commissioner(actor=request.user)
        .filter(status__in=[Admission.Status.ADMITTED, Admission.Status.SUSPENDED])
        .order_by("care_home__name", "lot__number", "pk")
    )
    if _wants_csv(request):
        rows = (
            [a.care_home.name, a.care_home.cqc_location_id, a.lot.number, a.get_status_display()] for a in admissions
        )
        return csv_response("dps-members.csv", ["home", "cqc_location_id", "lot", "status"], rows)
    context = {"admissions": list_page(request, admissions), "filters": filters}
    return render(request, "providers/members.html", context)


@role_required(Role.COMMISSIONER)
def suspensions(request):
    filters = AdmissionFilterForm(request.GET)
    suspended = filters.apply(selectors.suspensions(actor=request.user).order_by("-suspended_at", "-pk"))
    if _wants_csv(request):
        rows = (
            [a.care_home.name, a.care_home.cqc_location_id, a.lot.number, _local(a.suspended_at), a.suspension_reason]
            for a in suspended
        )
        return csv_response("suspensions.csv", ["home", "cqc_location_id", "lot", "suspended_at", "reason"], rows)
    context = {"suspended": list_page(request, suspended), "filters": filters}
    return render(request, "providers/suspensions.html", context)


def _reason_page(request, pk: int, *, service, title: str, button: str, done: str, lead: str):
    admission = selectors.admission_get_for_commissioner(actor=request.user, pk=pk)
    form = ReasonForm(request.POST or None, button=button)
    if request.method == "POST" and form.is_valid():
        try:
            service(actor=request.user, admission=admission, reason=form.cleaned_data["reason"])
        except ApplicationError as error:
            apply_to_form(form, error)
        else:
            messages.success(request, f"{admission.care_home.name}, lot {admission.lot.number}: {done}.")
            return redirect("providers:suspensions")
    context = {
        "admission": admission,
        "form": form,
        "title": title,
        "lead": lead,
        "events": admission.events.select_related("actor"),
    }
    return render(request, "providers/admission_reason.html", context)


@role_required(Role.COMMISSIONER)
def admission_suspend(request, pk: int):
    return _reason_page(
        request,
        pk,
        service=services.admission_suspend,
        title="Suspend",
        button="Suspend",
        done="suspended",
        lead="The home gets no new invitations on this lot and is taken out of your open tenders on it; the "
        "provider is told. People already placed there stay. Only a commissioner can reinstate it.",
    )


@role_required(Role.COMMISSIONER)
def admission_reinstate(request, pk: int):
    return _reason_page(
        request,
        pk,
        service=services.admission_reinstate,
        title="Reinstate",
        button="Reinstate",
        done="reinstated",
        lead="The home can be invited to tender on this lot again from now on.",
    )


@role_required(Role.COMMISSIONER)
def embargoes(request):
    """A body's embargoes: homes closed to its admissions only, with the form to add one."""
    homes = CareHome.objects.filter(admissions__commissioner=request.user.organisation).distinct().order_by("name")
    form = EmbargoForm(request.POST or None, homes=homes)
    if request.method == "POST" and form.is_valid():
        starts_at, ends_at = form.times()
        home = form.cleaned_data["care_home"]
        try:
            services.admission_closure_open(
                actor=request.user,
                care_home=home,
                commissioner=request.user.organisation,
                reason=form.cleaned_data["reason"],
                details=form.cleaned_data["details"],
                starts_at=starts_at,
                ends_at=ends_at,
                review_on=form.cleaned_data["review_on"],
            )
        except ApplicationError as error:
            _closure_errors_to_form(form, error)
        else:
            messages.success(request, f"{home.name} is embargoed: it gets no new invitations from your tenders.")
            return redirect("providers:embargoes")
    listed = selectors.embargoes_for_commissioner(actor=request.user)
    if _wants_csv(request):
        rows = (
            [
                e.care_home.name,
                e.care_home.cqc_location_id,
                e.get_reason_display(),
                e.details,
                _local(e.starts_at),
                _local(e.ends_at),
                e.review_on or "",
                _local(e.lifted_at),
                e.lift_reason,
            ]
            for e in listed
        )
        header = ["home", "cqc_location_id", "reason", "details", "starts", "ends", "review_on", "lifted"]
        header.append("lift_reason")
        return csv_response("embargoes.csv", header, rows)
    page = list_page(request, listed)
    now = timezone.now()
    for closure in page:
        closure.state = selectors.admission_closure_state(closure, at=now)
        closure.can_lift = closure.state in LIFTABLE
    return render(request, "providers/embargoes.html", {"form": form, "embargoes": page})


@role_required(Role.COMMISSIONER)
def windows(request):
    form = WindowForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.application_window_create(actor=request.user, **form.cleaned_data)
        except ApplicationError as error:
            apply_to_form(form, error)
        else:
            messages.success(request, "Re-opening window added.")
            return redirect("providers:windows")
    listed = (
        ApplicationWindow.objects.filter(commissioner=request.user.organisation)
        .select_related("lot")
        .order_by("opens_on", "pk")
    )
    if _wants_csv(request):
        rows = ([w.lot.number, w.opens_on, w.closes_on] for w in listed)
        return csv_response("reopening-windows.csv", ["lot", "opens_on", "closes_on"], rows)
    return render(request, "providers/windows.html", {"form": form, "windows": list_page(request, listed)})


# Brokers (and commissioners)


@role_required(Role.BROKER, Role.COMMISSIONER)
def care_home_search(request):
    form = CareHomeSearchForm(request.GET or None)
    homes = None
    if form.is_bound and form.is_valid():
        data = form.cleaned_data
        vacancy = {"yes": True, "no": False}.get(data["vacancy"])
        filters = selectors.SearchFilters(
            lot=data["lot"].number if data["lot"] else None,
            rating=data["rating"],
            specialism=data["specialism"].code if data["specialism"] else "",
            has_vacancy=vacancy,
            local_authority=data["local_authority"].strip(),
            near=form.point(),
            within_km=float(data["within_km"]) if data["within_km"] is not None else None,
        )
        homes = selectors.care_home_search(actor=request.user, filters=filters)
        if _wants_csv(request):
            homes = list(homes)
            risks = home_risks(actor=request.user, care_home_ids=[h.pk for h in homes])
            rows = (
                [
                    h.name,
                    h.cqc_location_id,
                    h.postcode,
                    h.local_authority,
                    h.current_rating.overall if h.current_rating else "Not yet rated",
                    h.beds_free,
                    _local(h.vacancies_confirmed_at),
                    f"{h.distance_km:.1f}" if getattr(h, "distance_km", None) is not None else "",
                    risks[h.pk].rating if h.pk in risks else "",
                ]
                for h in homes
            )
            header = ["name", "cqc_location_id", "postcode", "local_authority", "rating", "beds_free", "confirmed"]
            header += ["km", "risk"]
            return csv_response("care-homes.csv", header, rows)
        homes = list_page(request, homes)
        risks = home_risks(actor=request.user, care_home_ids=[h.pk for h in homes])
        for home in homes:
            home.risk = risks.get(home.pk)
    context = {"form": form, "homes": homes, "stale_before": selectors.vacancy_stale_before()}
    return render(request, "providers/care_home_search.html", context)


@role_required(Role.BROKER, Role.COMMISSIONER, Role.DISCHARGE_COORDINATOR)
def bed_vacancy_search(request):
    """Live vacancies near the person's postcode, with their freshness; closed homes left out."""
    form = BedVacancySearchForm(request.GET or None)
    vacancies = None
    if form.is_bound and form.is_valid():
        vacancies = selectors.bed_vacancy_search(actor=request.user, filters=form.filters())
        if _wants_csv(request):
            rows = (
                [
                    v.care_home.name,
                    v.care_home.cqc_location_id,
                    v.care_home.postcode,
                    v.for_label,
                    v.kind_label,
                    v.beds,
                    _local(v.confirmed_at),
                    "fresh" if v.fresh else "stale",
                    f"{v.distance_km:.1f}" if getattr(v, "distance_km", None) is not None else "",
                    v.notes,
                ]
                for v in vacancies
            )
            header = ["home", "cqc_location_id", "postcode", "lot_or_setting", "bed", "beds", "confirmed", "freshness"]
            header += ["km", "notes"]
            return csv_response("bed-vacancies.csv", header, rows)
        vacancies = list_page(request, vacancies)
    return render(request, "providers/bed_vacancy_search.html", {"form": form, "vacancies": vacancies})


@role_required(Role.COMMISSIONER)
def provider_invite(request):
    form = ProviderInviteForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            user = services.provider_invite(actor=request.user, **form.cleaned_data)
        except ApplicationError as error:
            apply_to_form(form, error)
        else:
            messages.success(request, f"Invitation sent to {user.email} at {user.organisation}.")
            return redirect("providers:provider_invite")
    return render(request, "providers/provider_invite.html", {"form": form})


class WelcomeView(PasswordResetConfirmView):
    """An invited provider sets a password from the link in the invitation."""

    template_name = "providers/welcome.html"
    success_url = reverse_lazy("login")


# Providers registering themselves


def sign_up(request):
    """A care provider registers itself: checked against the CQC data, confirmed by e-mail."""
    form = SignUpForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        wait = address_budget_spend(
            scope="signup",
            address=client_address(request),
            limit=settings.SIGNUP_ADDRESS_LIMIT,
            window=settings.SIGNUP_ADDRESS_WINDOW_SECONDS,
        )
        if wait:
            form.add_error(
                None, f"There have been too many registrations from your network. Try again in {wait_text(wait)}."
            )
        else:
            try:
                services.provider_register(**form.cleaned_data)
            except ApplicationError as error:
                apply_to_form(form, error)
            else:
                return redirect("providers:sign_up_sent")
    return render(request, "providers/sign_up.html", {"form": form})


def sign_up_sent(request):
    return render(request, "providers/sign_up_sent.html")


class SignUpConfirmView(PasswordResetConfirmView):
    """The registering contact confirms the address and sets a password; the link works once."""

    template_name = "providers/sign_up_confirm.html"
    success_url = reverse_lazy("login")

    def form_valid(self, form):
        response = super().form_valid(form)
        services.provider_registration_confirm(user=form.user)
        messages.success(self.request, "Your registration is confirmed. Sign in to add your homes and apply.")
        return response


# Compliance documents


@role_required(Role.PROVIDER)
def home_documents(request, pk: int):
    home = selectors.care_home_get_for_provider(actor=request.user, pk=pk)
    form = DocumentUploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            document = services.compliance_document_upload(
                actor=request.user,
                care_home=home,
                kind=data["kind"],
                upload=data["file"],
                expires_on=data["expires_on"],
            )
        except ApplicationError as error:
            apply_to_form(form, error)
        else:
            messages.success(
                request, f"{document.get_kind_display()} uploaded, in date to {document.expires_on:%-d %B %Y}."
            )
            return redirect("providers:home_documents", pk=home.pk)
    documents = selectors.current_documents(care_home=home)
    if _wants_csv(request):
        rows = ([d.get_kind_display(), d.original_name, d.expires_on, _local(d.uploaded_at)] for d in documents)
        return csv_response("compliance-documents.csv", ["kind", "file", "expires_on", "uploaded_at"], rows)
    context = {"home": home, "form": form, "documents": documents, "today": timezone.localdate()}
    return render(request, "providers/home_documents.html", context)


@role_required(Role.PROVIDER, Role.COMMISSIONER)
def document_download(request, pk: int):
    document = selectors.compliance_document_get(actor=request.user, pk=pk)
    response = FileResponse(
        document.file.open("rb"),
        content_type=document.content_type,
        as_attachment=True,
        filename=document.original_name,
    )
    response["X-Content-Type-Options"] = "nosniff"
    return response


# The commissioner's selection criteria


@role_required(Role.COMMISSIONER)
def questionnaire(request):
    form = QuestionForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.selection_question_add(actor=request.user, **form.cleaned_data)
        except ApplicationError as error:
            apply_to_form(form, error)
        else:
            messages.success(request, "Question added.")
            return redirect("providers:questionnaire")
    questions = selectors.selection_question_list(actor=request.user)
    if _wants_csv(request):
        rows = ([q.lot.number, q.text, q.get_answer_type_display(), q.required_answer] for q in questions)
        return csv_response("selection-questions.csv", ["lot", "question", "answer_type", "required_answer"], rows)
    return render(request, "providers/questionnaire.html", {"form": form, "questions": questions})


@role_required(Role.COMMISSIONER)
def question_retire(request, pk: int):
    question = selectors.selection_question_get(actor=request.user, pk=pk)
    if request.method == "POST":
        services.selection_question_retire(actor=request.user, question=question)
        messages.success(request, "The question is no longer asked.")
    return redirect("providers:questionnaire")


@role_required(Role.COMMISSIONER)
def document_requirements(request):
    form = DocumentRequirementForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.document_requirement_set(actor=request.user, **form.cleaned_data)
        except ApplicationError as error:
            apply_to_form(form, error)
        else:
            messages.success(request, "Document setting saved.")
            return redirect("providers:document_requirements")
    requirements = selectors.document_requirement_list(actor=request.user)
    if _wants_csv(request):
        rows = (
            [r.get_kind_display(), "yes" if r.suspends_when_expired else "no", r.reminder_days] for r in requirements
        )
        return csv_response("document-requirements.csv", ["kind", "suspends_when_expired", "reminder_days"], rows)
    return render(request, "providers/document_requirements.html", {"form": form, "requirements": requirements})
