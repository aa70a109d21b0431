"""DPS membership: homes, applications per lot, decisions, suspensions and vacancies."""

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal, InvalidOperation

from django.conf import settings
from django.contrib.auth.tokens import default_token_generator
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from django.utils.text import slugify

from core.audit import audit_record
from core.errors import ApplicationError, ConflictError, ForbiddenError, NotFoundError
from core.events import domain_event_send
from core.notifications import notify_organisation, notify_users
from lots.models import Lot, LotRules
from lots.services import dps_term_require
from organisations.models import Organisation, Role, User
from organisations.permissions import is_commissioner, is_provider_user, require
from organisations.services import organisation_create, user_create

from .models import (
    Admission,
    AdmissionClosure,
    AdmissionEvent,
    ApplicationWindow,
    BedVacancy,
    CareHome,
    ComplianceDocument,
    ComplianceReminder,
    DocumentKind,
    DocumentRequirement,
    SelectionAnswer,
    SelectionQuestion,
    Vacancy,
)
from .postcodes import postcode_point
from .ratings import RatingSource, RatingValue
from .selectors import (
    admission_closure_in_force_q,
    document_failures,
    documents_due_for_reminder,
    selection_failures,
    selection_questions,
)
from .signals import admission_closure_started, care_home_suspended

LIVE_STATUSES = (Admission.Status.APPLIED, Admission.Status.ADMITTED)
REQUIRED = "Enter a reason."
ADMITTED_SUSPENDED = (
    "The CQC rates the home Inadequate, so it joins the DPS suspended from new placements; "
    "only a commissioner can reinstate it."
)


def admission_starts_suspended(care_home: CareHome) -> bool:
    """A home rated Inadequate may join the DPS, but suspended from new placements."""
    rating = care_home.current_rating
    return rating is not None and rating.overall == RatingValue.INADEQUATE


def _require_own_home(actor, care_home: CareHome) -> None:
    """Providers act only on their own homes; anyone else's home is unknown to them."""
    require(is_provider_user(actor), "Only provider users can manage care homes.")
    if care_home.provider_id != actor.organisation_id:
        raise NotFoundError("No such care home.")


def _require_own_admission(actor, admission: Admission) -> None:
    require(is_commissioner(actor), "Only commissioners decide on admissions.")
    if admission.commissioner_id != actor.organisation_id:
        raise NotFoundError("No such application.")


def _transition(admission: Admission, *, to_status: str, actor, reason: str, automatic: bool = False) -> None:
    from_status = admission.status
    admission.status = to_status
    AdmissionEvent.objects.create(
        admission=admission,
        from_status=from_status,
        to_status=to_status,
        actor=actor if getattr(actor, "is_authenticated", False) else None,
        reason=reason,
        automatic=automatic,
    )


@transaction.atomic
def care_home_add(
    *,
    actor,
    cqc_location_id: str,
    name: str = "",
    address_line_1: str = "",
    town: str = "",
    postcode: str = "",
    local_authority: str = "",
    registered_beds: int = 0,
    provides_residential: bool = True,
    provides_nursing: bool = False,
) -> CareHome:
    """Add a home to the provider's list. A home CQC data already placed with this provider is
    simply theirs; one CQC lists under another provider cannot be claimed."""
    require(is_provider_user(actor), "Only provider users can add care homes.")
    location_id = cqc_location_id.strip()
    existing = CareHome.objects.select_for_update().filter(cqc_location_id=location_id).first()
    if existing is not None:
        if existing.provider_id == actor.organisation_id:
            return existing
        raise ConflictError(
            "CQC lists this location under another provider. Contact the council if that is wrong.",
            code="location_of_another_provider",
            fields={"cqc_location_id": "CQC lists this location under another provider."},
        )
    missing = {
        field: "Enter this, as CQC has no record of the location yet."
        for field, value in (("name", name), ("address_line_1", address_line_1), ("postcode", postcode))
        if not value.strip()
    }
    if missing:
        raise ApplicationError("Some details of the home are missing.", code="details_missing", fields=missing)
    if not (provides_residential or provides_nursing):
        raise ApplicationError(
            "Choose residential, nursing or both.", code="no_setting", fields={"provides_residential": "Choose one."}
        )
    # The point of its postcode, so the home is found by distance from the start.
    latitude, longitude = postcode_point(postcode) or (None, None)
    home = CareHome.objects.create(
        provider=actor.organisation,
        cqc_location_id=location_id,
        cqc_provider_id=actor.organisation.cqc_provider_id,
        name=name.strip(),
        address_line_1=address_line_1.strip(),
        town=town.strip(),
        postcode=postcode.strip().upper(),
        latitude=latitude,
        longitude=longitude,
        local_authority=local_authority.strip(),
        registered_beds=registered_beds,
        provides_residential=provides_residential,
        provides_nursing=provides_nursing,
    )
    audit_record(actor=actor, verb="providers.care_home.added", target=home, organisation=actor.organisation)
    return home


def next_window(*, commissioner: Organisation, lot: Lot, today: date) -> ApplicationWindow | None:
    return (
        ApplicationWindow.objects.filter(commissioner=commissioner, lot=lot, opens_on__gt=today)
        .order_by("opens_on")
        .first()
    )


def _check_window(*, commissioner: Organisation, lot: Lot, today: date) -> None:
    rules = LotRules.objects.filter(commissioner=commissioner, lot=lot).first()
    if rules is None:
        raise ApplicationError(
            f"{commissioner} does not commission lot {lot.number}.", code="lot_not_run", fields={"lots": "Not run."}
        )
    if rules.admission_mode != LotRules.AdmissionMode.WINDOWS:
        return
    if ApplicationWindow.objects.filter(
        commissioner=commissioner, lot=lot, opens_on__lte=today, closes_on__gte=today
    ).exists():
        return
    upcoming = next_window(commissioner=commissioner, lot=lot, today=today)
    if upcoming is None:
        message = f"Lot {lot.number} of {commissioner} is closed to applications and no re-opening is planned yet."
    else:
        message = (
            f"Lot {lot.number} of {commissioner} is closed to applications. "
            f"The next window opens on {upcoming.opens_on:%-d %B %Y} and closes on {upcoming.closes_on:%-d %B %Y}."
        )
    raise ApplicationError(message, code="outside_window", fields={"lots": message})


@dataclass(frozen=True)
class Declarations:
    insurance_confirmed: bool
    insurance_expires_on: date | None
    terms_accepted: bool
    weekly_fee: Decimal


def _check_declarations(declarations: Declarations, today: date) -> None:
    errors = {}
    if not declarations.insurance_confirmed:
        errors["insurance_confirmed"] = "Confirm the home holds the insurance the council asks for."
    if declarations.insurance_expires_on is None or declarations.insurance_expires_on <= today:
        errors["insurance_expires_on"] = "Enter an insurance expiry date in the future."
    if not declarations.terms_accepted:
        errors["terms_accepted"] = "Accept the terms and conditions to apply."
    if declarations.weekly_fee is None or declarations.weekly_fee <= 0:
        errors["weekly_fee"] = "Enter the weekly fee, more than £0."
    if errors:
        raise ApplicationError("Some declarations are missing.", code="declarations_missing", fields=errors)


def answer_field(question: SelectionQuestion) -> str:
    """The form and API field of a question's answer."""
    return f"question_{question.pk}"


def _check_answers(*, commissioner, lots: list[Lot], answers: dict[int, str]) -> dict[int, list[SelectionQuestion]]:
    """Every question asked for the lots is answered in its type; what the answers are worth is the
    commissioner's evaluation (`selection_failures`)."""
    asked, errors = {}, {}
    for lot in lots:
        asked[lot.pk] = list(selection_questions(commissioner=commissioner, lot=lot))
        for question in asked[lot.pk]:
            answer = (answers.get(question.pk) or "").strip()
            if not answer:
                errors[answer_field(question)] = "Answer this question."
            elif question.answer_type == SelectionQuestion.AnswerType.YES_NO and answer.lower() not in ("yes", "no"):
                errors[answer_field(question)] = "Answer yes or no."
            elif question.answer_type == SelectionQuestion.AnswerType.NUMBER:
                try:
                    Decimal(answer)
                except InvalidOperation:
                    errors[answer_field(question)] = "Answer with a number, like 12."
    if errors:
        raise ApplicationError("Some selection questions are not answered.", code="answers_missing", fields=errors)
    return asked


def _check_documents(*, care_home: CareHome, commissioner, today: date) -> None:
    failures = document_failures(care_home=care_home, commissioner=commissioner, on=today)
    if failures:
        message = "Upload the compliance documents the council requires, in date, before applying: " + " ".join(
            failures
        )
        raise ApplicationError(message, code="documents_missing", fields={"commissioner": message})


@transaction.atomic
def admission_apply(
    *,
    actor,
    care_home: CareHome,
    commissioner: Organisation,
    lots: list[Lot],
    declarations: Declarations,
    answers: dict[int, str] | None = None,
) -> list[Admission]:
    """Apply for a home to join lots of one commissioning body's DPS, within its term, answering
    the body's selection questions for each lot (`answers` by question id) with the compliance
    documents it requires uploaded and in date."""
    _require_own_home(actor, care_home)
    if not commissioner.is_commissioning_body:
        raise ApplicationError("Choose a council or NHS body.", code="not_commissioner")
    if not lots:
        raise ApplicationError("Choose at least one lot.", code="no_lots", fields={"lots": "Choose at least one lot."})
    today = timezone.localdate()
    _check_declarations(declarations, today)
    for lot in lots:
        dps_term_require(
            commissioner=commissioner, on=today, lot=lot, action="No application can be made", field="lots"
        )
        _check_window(commissioner=commissioner, lot=lot, today=today)
    questions = _check_answers(commissioner=commissioner, lots=lots, answers=answers or {})
    _check_documents(care_home=care_home, commissioner=commissioner, today=today)
    now = timezone.now()
    applied = []
    for lot in lots:
        admission, created = Admission.objects.select_for_update().get_or_create(
            commissioner=commissioner, care_home=care_home, lot=lot
        )
        if not created and admission.status not in (Admission.Status.REJECTED, Admission.Status.REMOVED):
            raise ConflictError(
                f"{care_home.name} is already {admission.get_status_display().lower()} on lot {lot.number}.",
                code="already_applied",
                fields={"lots": f"Lot {lot.number}: already {admission.get_status_display().lower()}."},
            )
        if not created:
            _transition(admission, to_status=Admission.Status.APPLIED, actor=actor, reason="Applied again")
        else:
            AdmissionEvent.objects.create(admission=admission, to_status=Admission.Status.APPLIED, actor=actor)
        admission.insurance_confirmed = declarations.insurance_confirmed
        admission.insurance_expires_on = declarations.insurance_expires_on
        admission.terms_accepted = declarations.terms_accepted
        admission.weekly_fee = declarations.weekly_fee
        admission.applied_by = actor
        admission.applied_at = now
        admission.decided_by = None
        admission.decided_at = None
        admission.decision_reason = ""
        admission.save()
        admission.answers.all().delete()
        SelectionAnswer.objects.bulk_create(
            SelectionAnswer(admission=admission, question=question, answer=(answers or {})[question.pk].strip())
            for question in questions[lot.pk]
        )
        audit_record(
            actor=actor,
            verb="providers.admission.applied",
            target=admission,
            organisation=actor.organisation,
            detail={"lot": lot.number, "commissioner": commissioner.slug, "weekly_fee": str(declarations.weekly_fee)},
        )
        applied.append(admission)
    notify_organisation(
        organisation=commissioner,
        roles=[Role.COMMISSIONER],
        verb="providers.admission.applied",
        subject=f"New DPS application: {care_home.name}",
        template="emails/dps_message.txt",
        context={"message": f"{care_home.name} applied for lots {', '.join(str(lot.number) for lot in lots)}."},
        dedupe_key=f"admission-applied:{care_home.pk}:{commissioner.pk}:{now.isoformat()}",
        link=reverse("providers:application_queue"),
    )
    return applied


@transaction.atomic
def admission_decide(*, actor, admission: Admission, admit: bool, reason: str) -> Admission:
    _require_own_admission(actor, admission)
    admission = (
        Admission.objects.select_for_update(of=("self",))
        .select_related("care_home__current_rating", "lot")
        .get(pk=admission.pk)
    )
    if not reason.strip():
        raise ApplicationError("Give a reason for the decision.", code="reason_required", fields={"reason": REQUIRED})
    if admission.status != Admission.Status.APPLIED:
        raise ConflictError(
            f"This application is already {admission.get_status_display().lower()}.", code="not_pending"
        )
    if admit:
        failures = selection_failures(admission=admission, on=timezone.localdate())
        if failures:
            raise ConflictError(
                "The application does not meet the selection criteria: " + " ".join(failures),
                code="selection_not_met",
                fields={"decision": failures},
            )
    to_status = Admission.Status.ADMITTED if admit else Admission.Status.REJECTED
    _transition(admission, to_status=to_status, actor=actor, reason=reason)
    admission.decided_by = actor
    admission.decided_at = timezone.now()
    admission.decision_reason = reason
    suspended = admit and admission_starts_suspended(admission.care_home)
    if suspended:
        # The home joins the DPS but takes no new placements until a commissioner reinstates it.
        admission.status_before_suspension = Admission.Status.ADMITTED
        _transition(
            admission, to_status=Admission.Status.SUSPENDED, actor=actor, reason=ADMITTED_SUSPENDED, automatic=True
        )
    admission.save()
    verb = "providers.admission.admitted" if admit else "providers.admission.rejected"
    audit_record(
        actor=actor,
        verb=verb,
        target=admission,
        organisation=actor.organisation,
        reason=reason,
        detail={"starts_suspended": suspended},
    )
    if suspended:
        audit_record(
            actor=actor,
            verb="providers.admission.suspended",
            target=admission,
            organisation=actor.organisation,
            reason=ADMITTED_SUSPENDED,
            detail={"automatic": True, "suspended_by": "CQC rating", "statement": ADMITTED_SUSPENDED},
        )
    word = "admitted to" if admit else "not admitted to"
    message = (
        f"{admission.commissioner} has {word.replace(' to', '')} {admission.care_home.name} "
        f"on lot {admission.lot.number}. Reason: {reason}"
    )
    if suspended:
        message += f" {ADMITTED_SUSPENDED}"
    notify_organisation(
        organisation=admission.care_home.provider,
        verb=verb,
        subject=f"{admission.care_home.name} {word} lot {admission.lot.number}",
        template="emails/dps_message.txt",
        context={"message": message},
        dedupe_key=f"admission-decided:{admission.pk}:{admission.decided_at.isoformat()}",
        link=reverse("providers:my_applications"),
    )
    return admission


def _suspended_by_body(commissioner: Organisation, reason: str) -> str:
    """A body's own suspension, in the words every notice and withdrawal uses."""
    return f"Suspended by {commissioner}: {reason.strip()}"


def _suspended_for_rating(rating, actor) -> str:
    """Only the CQC's rating suspends on every body's DPS, so only this text names the CQC: from
    the CQC's import, or from its report entered by back-office staff, who are named."""
    if rating.report_date:
        report = f"in its report published {rating.report_date:%-d %B %Y}"
    else:
        report = "in a report the CQC sent without a publication date"
    entered = ""
    if rating.source == RatingSource.MANUAL and getattr(actor, "is_authenticated", False):
        entered = f" (entered by hand from that report by {actor})"
    return f"Suspended on every DPS because the CQC rated the home Inadequate overall {report}{entered}."


def _notify_suspension(admissions: list[Admission], *, statement: str, dedupe: str) -> None:
    """Tell each suspending body's commissioners and brokers, and the provider, who acted and why."""
    if not admissions:
        return
    home = admissions[0].care_home
    since = f"{timezone.localdate():%-d %B %Y}"
    lots_by_body: dict[int, list[Admission]] = {}
    for admission in admissions:
        lots_by_body.setdefault(admission.commissioner_id, []).append(admission)
    for group in lots_by_body.values():
        commissioner = group[0].commissioner
        lots = ", ".join(str(a.lot.number) for a in group)
        notify_organisation(
            organisation=commissioner,
            roles=[Role.COMMISSIONER, Role.BROKER],
            verb="providers.admission.suspended",
            subject=f"{home.name} suspended from your DPS",
            template="emails/dps_message.txt",
            context={
                "message": f"{home.name} is suspended from new placements on lots {lots} of your DPS "
                f"from {since}. {statement}"
            },
            dedupe_key=f"suspended:{dedupe}:{commissioner.pk}",
            link=reverse("providers:suspensions"),
        )
        domain_event_send(
            "care_home.suspended",
            home=home,
            commissioner=commissioner,
            lots=[a.lot.number for a in group],
            dedupe_key=f"{dedupe}:{commissioner.pk}",
        )
    where = "; ".join(
        f"{group[0].commissioner}'s DPS, lots {', '.join(str(a.lot.number) for a in group)}"
        for group in lots_by_body.values()
    )
    bodies = {group[0].commissioner.name for group in lots_by_body.values()}
    by = f" by {next(iter(bodies))}" if len(bodies) == 1 else ""
    notify_organisation(
        organisation=home.provider,
        verb="providers.admission.suspended",
        subject=f"{home.name} suspended from new placements{by}",
        template="emails/dps_message.txt",
        context={"message": f"{home.name} is suspended from new placements on {where} from {since}. {statement}"},
        dedupe_key=f"suspended:{dedupe}:provider",
        link=reverse("providers:my_applications"),
    )


def _suspend(admissions: list[Admission], *, actor, reason: str, automatic: bool, by: str, statement: str) -> None:
    """`reason` is kept as given on the event (which names its actor); the audit detail says who acted."""
    for admission in admissions:
        admission.status_before_suspension = admission.status
        _transition(admission, to_status=Admission.Status.SUSPENDED, actor=actor, reason=reason, automatic=automatic)
        admission.save(update_fields=["status", "status_before_suspension", "updated_at"])
        audit_record(
            actor=actor,
            verb="providers.admission.suspended",
            target=admission,
            organisation=admission.commissioner,
            reason=reason,
            detail={"automatic": automatic, "suspended_by": by, "statement": statement},
        )


def _withdraw_from_tenders(*, care_home: CareHome, actor, reason: str, commissioner, lot=None) -> None:
    """Tell bidding (through `care_home_suspended`) to take the home out of the open tenders in scope."""
    care_home_suspended.send(
        sender=CareHome, care_home=care_home, actor=actor, reason=reason, commissioner=commissioner, lot=lot
    )


@transaction.atomic
def care_home_suspend_for_rating(*, care_home: CareHome, rating, actor=None) -> list[Admission]:
    """An Inadequate CQC rating suspends every live admission of the home on every DPS at once.

    Only `quality.services.rating_record` calls this, after checking the rating is the CQC's:
    from its import, or entered from its report by staff allowed to.
    """
    admissions = list(
        Admission.objects.select_for_update(of=("self",))
        .select_related("care_home__provider", "commissioner", "lot")
        .filter(care_home=care_home, status__in=LIVE_STATUSES)
        .order_by("commissioner_id", "lot__number")
    )
    statement = _suspended_for_rating(rating, actor)
    _suspend(admissions, actor=actor, reason=statement, automatic=True, by="CQC rating", statement=statement)
    # The CQC's rating holds for every body, so the home leaves every body's open tenders.
    _withdraw_from_tenders(care_home=care_home, actor=actor, reason=statement, commissioner=None)
    _notify_suspension(admissions, statement=statement, dedupe=f"rating-{rating.pk}")
    return admissions


@transaction.atomic
def admission_suspend(*, actor, admission: Admission, reason: str) -> Admission:
    """A commissioner's own suspension (e.g. safeguarding) of one home-lot of their body's DPS.

    It touches nothing of any other body: not its admissions, not its tenders.
    """
    _require_own_admission(actor, admission)
    if not reason.strip():
        raise ApplicationError("Give a reason for the suspension.", code="reason_required", fields={"reason": REQUIRED})
    admission = (
        Admission.objects.select_for_update(of=("self",))
        .select_related("care_home__provider", "commissioner", "lot")
        .get(pk=admission.pk)
    )
    if admission.status not in LIVE_STATUSES:
        raise ConflictError(
            f"This home-lot is {admission.get_status_display().lower()} and cannot be suspended.", code="not_live"
        )
    reason = reason.strip()
    statement = _suspended_by_body(admission.commissioner, reason)
    _suspend(
        [admission], actor=actor, reason=reason, automatic=False, by=admission.commissioner.name, statement=statement
    )
    # Only this body's tenders in this lot: the home stays in the running everywhere else.
    _withdraw_from_tenders(
        care_home=admission.care_home,
        actor=actor,
        reason=statement,
        commissioner=admission.commissioner,
        lot=admission.lot,
    )
    _notify_suspension([admission], statement=statement, dedupe=f"manual-{admission.pk}-{timezone.now().isoformat()}")
    return admission


@transaction.atomic
def admission_reinstate(*, actor, admission: Admission, reason: str) -> Admission:
    """Only a commissioner lifts a suspension; a better rating alone never does."""
    _require_own_admission(actor, admission)
    if not reason.strip():
        raise ApplicationError(
            "Give a reason for reinstating the home.", code="reason_required", fields={"reason": "Required."}
        )
    admission = (
        Admission.objects.select_for_update(of=("self",))
        .select_related("care_home__provider", "lot")
        .get(pk=admission.pk)
    )
    if admission.status != Admission.Status.SUSPENDED:
        raise ConflictError("This home-lot is not suspended.", code="not_suspended")
    _transition(
        admission, to_status=admission.status_before_suspension or Admission.Status.ADMITTED, actor=actor, reason=reason
    )
    admission.status_before_suspension = ""
    admission.save(update_fields=["status", "status_before_suspension", "updated_at"])
    audit_record(
        actor=actor,
        verb="providers.admission.reinstated",
        target=admission,
        organisation=actor.organisation,
        reason=reason,
    )
    domain_event_send(
        "care_home.reinstated",
        home=admission.care_home,
        commissioner=actor.organisation,
        lots=[admission.lot.number],
        dedupe_key=f"{admission.pk}:{timezone.now().isoformat()}",
    )
    notify_organisation(
        organisation=admission.care_home.provider,
        verb="providers.admission.reinstated",
        subject=f"{admission.care_home.name} reinstated on lot {admission.lot.number}",
        template="emails/dps_message.txt",
        context={"message": f"{admission.commissioner} reinstated {admission.care_home.name}. Reason: {reason}"},
        dedupe_key=f"reinstated:{admission.pk}:{timezone.now().isoformat()}",
        link=reverse("providers:my_applications"),
    )
    return admission


@dataclass(frozen=True)
class VacancyInput:
    beds_free: int
    available_from: date
    lot: Lot | None = None
    setting: str = ""
    notes: str = ""


@transaction.atomic
def vacancies_replace(*, actor, care_home: CareHome, vacancies: list[VacancyInput]) -> list[Vacancy]:
    """Replace the home's vacancies with the list given; saving also confirms them as current."""
    _require_own_home(actor, care_home)
    # Two saves of one home's list at once would otherwise interleave their delete and insert.
    CareHome.objects.select_for_update().get(pk=care_home.pk)
    for number, item in enumerate(vacancies):
        if item.lot is None and not item.setting:
            raise ApplicationError(
                "Each vacancy needs a lot or a setting.",
                code="vacancy_needs_lot_or_setting",
                fields={f"vacancies[{number}]": "Choose a lot or a setting."},
            )
    care_home.vacancies.all().delete()
    now = timezone.now()
    created = Vacancy.objects.bulk_create(
        Vacancy(
            care_home=care_home,
            lot=item.lot,
            setting=item.setting,
            beds_free=item.beds_free,
            available_from=item.available_from,
            notes=item.notes,
            confirmed_at=now,
            confirmed_by=actor,
        )
        for item in vacancies
    )
    audit_record(
        actor=actor,
        verb="providers.vacancies.confirmed",
        target=care_home,
        organisation=actor.organisation,
        detail={"beds_free": sum(item.beds_free for item in vacancies)},
    )
    return created


@transaction.atomic
def application_window_create(*, actor, lot: Lot, opens_on: date, closes_on: date) -> ApplicationWindow:
    require(is_commissioner(actor), "Only commissioners set re-opening windows.")
    if closes_on < opens_on:
        raise ApplicationError(
            "The window must close on or after the day it opens.",
            code="window_backwards",
            fields={"closes_on": "Must be on or after the opening date."},
        )
    window = ApplicationWindow.objects.create(
        commissioner=actor.organisation, lot=lot, opens_on=opens_on, closes_on=closes_on
    )
    audit_record(actor=actor, verb="providers.window.created", target=window, organisation=actor.organisation)
    return window


@transaction.atomic
def provider_invite(*, actor, name: str, cqc_provider_id: str, email: str, full_name: str = ""):
    """A commissioner invites a care provider: its organisation (found by CQC provider id, e.g. made
    by the CQC import, or created) gets a first user, who is e-mailed a link to set a password."""
    require(is_commissioner(actor), "Only commissioners invite providers.")
    cqc_provider_id = cqc_provider_id.strip()
    if not cqc_provider_id:
        raise ApplicationError(
            "Enter the provider's CQC provider id.", code="cqc_id_required", fields={"cqc_provider_id": "Required."}
        )
    organisation = Organisation.objects.filter(cqc_provider_id=cqc_provider_id).first()
    if organisation is None:
        organisation = organisation_create(
            kind=Organisation.Kind.PROVIDER, name=name.strip(), cqc_provider_id=cqc_provider_id, actor=actor
        )
    user, _ = user_create(organisation=organisation, role=Role.PROVIDER, email=email, full_name=full_name, actor=actor)
    user.set_unusable_password()
    user.save(update_fields=["password"])
    link = reverse(
        "providers:welcome",
        kwargs={
            "uidb64": urlsafe_base64_encode(force_bytes(user.pk)),
            "token": default_token_generator.make_token(user),
        },
    )
    notify_organisation(
        organisation=organisation,
        roles=[Role.PROVIDER],
        verb="providers.provider.invited",
        subject=f"{actor.organisation} invites {organisation.name} to its DPS",
        template="emails/dps_message.txt",
        context={
            "message": f"{actor.organisation} invites you to add your care homes and apply to join its DPS. "
            "Set your password with the link below."
        },
        dedupe_key=f"provider-invited:{user.pk}",
        link=link,
    )
    audit_record(
        actor=actor,
        verb="providers.provider.invited",
        target=organisation,
        organisation=actor.organisation,
        detail={"email": user.email},
    )
    return user


# --- Closed to admissions ------------------------------------------------------------------


def _is_back_office(actor) -> bool:
    return bool(actor and actor.is_authenticated and actor.is_staff and not getattr(actor, "is_service_account", False))


def _require_may_close(actor, care_home: CareHome, commissioner: Organisation | None) -> None:
    """Who may close a home to admissions, and for whom.

    The home's provider closes it for every body; a commissioner embargoes it for their own body
    only; back-office staff may do either. No actor is a trusted caller (another service that
    checked its own actor first, such as a home's closure).
    """
    if actor is None or _is_back_office(actor):
        return
    if is_provider_user(actor):
        _require_own_home(actor, care_home)
        if commissioner is not None:
            raise ApplicationError(
                "A provider closes a home for every council and NHS body.",
                code="provider_closes_for_all",
                fields={"commissioner": "Leave this empty: the home closes for every body."},
            )
        return
    require(is_commissioner(actor), "Only the home's provider, a commissioner or the back office can close a home.")
    if commissioner is None or commissioner.pk != actor.organisation_id:
        raise ForbiddenError("A commissioner embargoes a home for their own body only.")


CLOSURE_REASONS_NEEDING_DETAILS = (AdmissionClosure.Reason.OTHER, AdmissionClosure.Reason.SAFEGUARDING_EMBARGO)


def _closure_words(closure: AdmissionClosure) -> str:
    """The closure as the provider and brokers read it on withdrawn invitations and notices."""
    who = f" for {closure.commissioner}" if closure.commissioner_id else ""
    details = f" ({closure.details.strip()})" if closure.details.strip() else ""
    return f"{closure.care_home.name} is closed to admissions{who}: {closure.get_reason_display()}{details}."


@transaction.atomic
def admission_closure_open(
    *,
    actor,
    care_home: CareHome,
    reason: str,
    details: str = "",
    starts_at: datetime | None = None,
    review_on: date | None = None,
    ends_at: datetime | None = None,
    commissioner: Organisation | None = None,
) -> AdmissionClosure:
    """Close a home to new admissions (for every body, or for one as an embargo).

    From its start the home is invited to no new tender of the bodies it binds, and its open
    invitations of those bodies are withdrawn (now if it starts now, else when it starts:
    `admission_closures_take_effect`). People already placed there stay.
    """
    _require_may_close(actor, care_home, commissioner)
    now = timezone.now()
    starts_at = starts_at or now
    errors = {}
    if reason not in AdmissionClosure.Reason.values:
        errors["reason"] = "Choose why the home is closed to admissions."
    elif reason in CLOSURE_REASONS_NEEDING_DETAILS and not details.strip():
        errors["details"] = "Say why the home is closed to admissions."
    if ends_at is not None and ends_at <= starts_at:
        errors["ends_at"] = "The closure must end after it starts."
    elif ends_at is not None and ends_at <= now:
        errors["ends_at"] = "The end of the closure must be in the future."
    if review_on is not None and review_on < timezone.localdate(starts_at):
        errors["review_on"] = "The review date must be on or after the day the closure starts."
    if errors:
        raise ApplicationError("Some of the closure is not valid.", code="closure_invalid", fields=errors)
    CareHome.objects.select_for_update().get(pk=care_home.pk)
    closure = AdmissionClosure.objects.create(
        care_home=care_home,
        reason=reason,
        details=details.strip(),
        starts_at=starts_at,
        review_on=review_on,
        ends_at=ends_at,
        commissioner=commissioner,
        created_by=actor if getattr(actor, "is_authenticated", False) else None,
    )
    audit_record(
        actor=actor,
        verb="providers.admission_closure.opened",
        target=care_home,
        organisation=commissioner or care_home.provider,
        reason=closure.details,
        detail={
            "closure": closure.pk,
            "reason": closure.reason,
            "commissioner": commissioner.slug if commissioner else None,
            "starts_at": starts_at.isoformat(),
            "ends_at": ends_at.isoformat() if ends_at else None,
            "review_on": review_on.isoformat() if review_on else None,
        },
    )
    if actor is None or not is_provider_user(actor):
        notify_organisation(
            organisation=care_home.provider,
            verb="providers.admission_closure.opened",
            subject=f"{care_home.name} closed to admissions",
            template="emails/dps_message.txt",
            context={"message": _closure_words(closure)},
            dedupe_key=f"admission-closure-opened:{closure.pk}",
            link=reverse("providers:home_closures", args=[care_home.pk]),
        )
    if starts_at <= now:
        _closure_take_effect(closure_id=closure.pk, actor=actor)
    return closure


def _closure_take_effect(*, closure_id: int, actor) -> bool:
    """Withdraw the open invitations the closure binds, once: the conditional UPDATE claims it."""
    now = timezone.now()
    claimed = (
        AdmissionClosure.objects.filter(pk=closure_id, took_effect_at__isnull=True)
        .filter(admission_closure_in_force_q(at=now))
        .update(took_effect_at=now)
    )
    if not claimed:
        return False
    closure = AdmissionClosure.objects.select_related("care_home", "commissioner").get(pk=closure_id)
    admission_closure_started.send(
        sender=AdmissionClosure,
        closure=closure,
        care_home=closure.care_home,
        actor=actor,
        reason=_closure_words(closure),
        commissioner=closure.commissioner,
    )
    return True


def admission_closures_take_effect() -> int:
    """Closures dated to start later, now started: withdraw their open invitations (beat runs this;
    each closure is claimed once, so a second run does nothing)."""
    due = AdmissionClosure.objects.filter(admission_closure_in_force_q(), took_effect_at__isnull=True).values_list(
        "pk", flat=True
    )
    taken = 0
    for closure_id in list(due):
        with transaction.atomic():
            taken += _closure_take_effect(closure_id=closure_id, actor=None)
    return taken


def _require_may_lift(actor, closure: AdmissionClosure) -> None:
    """Who closed it lifts it: the provider its own closures for every body, a commissioner its
    body's embargo; back-office staff either. A provider cannot lift a body's embargo."""
    if _is_back_office(actor):
        return
    if is_provider_user(actor):
        _require_own_home(actor, closure.care_home)
        if closure.commissioner_id is not None:
            raise ForbiddenError(f"Only {closure.commissioner} can lift its embargo.")
        return
    require(is_commissioner(actor), "Only the home's provider, a commissioner or the back office can lift a closure.")
    if closure.commissioner_id != actor.organisation_id:
        if closure.commissioner_id is None:
            raise ForbiddenError("Only the home's provider can reopen it to admissions.")
        raise NotFoundError("No such closure.")


@transaction.atomic
def admission_closure_lift(*, actor, closure: AdmissionClosure, reason: str) -> AdmissionClosure:
    """Reopen a home to admissions, with the decision recorded. From now it may be invited again;
    invitations already withdrawn stay withdrawn."""
    closure = (
        AdmissionClosure.objects.select_for_update(of=("self",))
        .select_related("care_home", "commissioner")
        .get(pk=closure.pk)
    )
    _require_may_lift(actor, closure)
    if not reason.strip():
        raise ApplicationError(
            "Give the reason for lifting the closure.", code="reason_required", fields={"reason": REQUIRED}
        )
    now = timezone.now()
    if closure.lifted_at is not None or (closure.ends_at is not None and closure.ends_at <= now):
        raise ConflictError("This closure has already ended.", code="closure_ended")
    closure.lifted_at = now
    closure.lifted_by = actor
    closure.lift_reason = reason.strip()
    closure.save(update_fields=["lifted_at", "lifted_by", "lift_reason"])
    audit_record(
        actor=actor,
        verb="providers.admission_closure.lifted",
        target=closure.care_home,
        organisation=closure.commissioner or closure.care_home.provider,
        reason=closure.lift_reason,
        detail={"closure": closure.pk, "reason": closure.reason},
    )
    if not is_provider_user(actor):
        notify_organisation(
            organisation=closure.care_home.provider,
            verb="providers.admission_closure.lifted",
            subject=f"{closure.care_home.name} open to admissions again",
            template="emails/dps_message.txt",
            context={"message": f"The closure of {closure.care_home.name} was lifted: {closure.lift_reason}"},
            dedupe_key=f"admission-closure-lifted:{closure.pk}",
            link=reverse("providers:home_closures", args=[closure.care_home_id]),
        )
    return closure


# --- Bed vacancies ---------------------------------------------------------------------------


@dataclass(frozen=True)
class BedVacancyInput:
    beds: int
    lot: Lot | None = None
    setting: str = ""
    room_type: str = BedVacancy.RoomType.SINGLE
    en_suite: bool = False
    ground_floor: bool = False
    gender: str = BedVacancy.Gender.ANY
    bariatric: bool = False
    notes: str = ""


def _bed_vacancy_errors(number: int, item: BedVacancyInput) -> dict:
    errors = {}
    key = f"vacancies[{number}]"
    if item.lot is None and not item.setting:
        errors[key] = "Choose a lot or a setting."
    elif item.setting and item.setting not in BedVacancy.Setting.values:
        errors[key] = "Choose residential or nursing."
    if item.room_type not in BedVacancy.RoomType.values:
        errors[key] = "Choose a single or shared room."
    if item.gender not in BedVacancy.Gender.values:
        errors[key] = "Choose who the bed is for."
    if item.beds is None or not 1 <= item.beds <= 500:
        errors[key] = "Enter between 1 and 500 beds."
    return errors


@transaction.atomic
def bed_vacancies_replace(*, actor, care_home: CareHome, vacancies: list[BedVacancyInput]) -> list[BedVacancy]:
    """Replace the home's bed vacancies with the list given (empty: no beds free); saving them
    confirms them as current."""
    _require_own_home(actor, care_home)
    errors = {}
    for number, item in enumerate(vacancies):
        errors.update(_bed_vacancy_errors(number, item))
    if errors:
        raise ApplicationError("Some of the vacancies are not valid.", code="bed_vacancy_invalid", fields=errors)
    # Two saves of one home's list at once would otherwise interleave their delete and insert.
    CareHome.objects.select_for_update().get(pk=care_home.pk)
    care_home.bed_vacancies.all().delete()
    now = timezone.now()
    created = BedVacancy.objects.bulk_create(
        BedVacancy(
            care_home=care_home,
            lot=item.lot,
            setting=item.setting if item.lot is None else "",
            room_type=item.room_type,
            en_suite=item.en_suite,
            ground_floor=item.ground_floor,
            gender=item.gender,
            bariatric=item.bariatric,
            beds=item.beds,
            notes=item.notes.strip(),
            confirmed_at=now,
            confirmed_by=actor,
        )
        for item in vacancies
    )
    audit_record(
        actor=actor,
        verb="providers.bed_vacancies.saved",
        target=care_home,
        organisation=actor.organisation,
        detail={"beds": sum(item.beds for item in vacancies), "kinds": len(vacancies)},
    )
    return created


@transaction.atomic
def bed_vacancies_confirm(*, actor, care_home: CareHome) -> int:
    """ "No change": every bed vacancy of the home confirmed as still current, now. Returns how many."""
    _require_own_home(actor, care_home)
    now = timezone.now()
    count = BedVacancy.objects.filter(care_home=care_home).update(confirmed_at=now, confirmed_by=actor)
    audit_record(
        actor=actor,
        verb="providers.bed_vacancies.confirmed",
        target=care_home,
        organisation=actor.organisation,
        detail={"kinds": count, "confirmed_at": now.isoformat()},
    )
    return count


# Selection questionnaires and compliance documents


@transaction.atomic
def selection_question_add(
    *, actor, lot: Lot, text: str, answer_type: str, required_answer: str = ""
) -> SelectionQuestion:
    """A commissioner adds a question to the body's selection questionnaire for a lot."""
    require(is_commissioner(actor), "Only commissioners set selection questionnaires.")
    text, required = text.strip(), required_answer.strip().lower()
    errors = {}
    if not text:
        errors["text"] = "Enter the question."
    if answer_type not in SelectionQuestion.AnswerType.values:
        errors["answer_type"] = "Choose the type of answer."
    elif answer_type == SelectionQuestion.AnswerType.YES_NO and required not in ("", "yes", "no"):
        errors["required_answer"] = "For a yes or no question, require yes, no or leave it empty."
    elif answer_type == SelectionQuestion.AnswerType.NUMBER and required:
        try:
            Decimal(required)
        except InvalidOperation:
            errors["required_answer"] = "For a number, give the least acceptable number, like 12."
    elif answer_type == SelectionQuestion.AnswerType.TEXT and required:
        errors["required_answer"] = "A text answer is read by the commissioner: leave the required answer empty."
    if errors:
        raise ApplicationError("The question cannot be added.", code="question_invalid", fields=errors)
    position = SelectionQuestion.objects.filter(commissioner=actor.organisation, lot=lot).count()
    question = SelectionQuestion.objects.create(
        commissioner=actor.organisation,
        lot=lot,
        text=text,
        answer_type=answer_type,
        required_answer=required,
        position=position,
    )
    audit_record(
        actor=actor,
        verb="providers.question.added",
        target=question,
        organisation=actor.organisation,
        detail={"lot": lot.number, "answer_type": answer_type, "required_answer": required},
    )
    return question


@transaction.atomic
def selection_question_retire(*, actor, question: SelectionQuestion) -> SelectionQuestion:
    """Stop asking a question; answers already given keep it."""
    require(is_commissioner(actor), "Only commissioners set selection questionnaires.")
    if question.commissioner_id != actor.organisation_id:
        raise NotFoundError("No such question.")
    if question.retired_at is None:
        question.retired_at = timezone.now()
        question.save(update_fields=["retired_at"])
        audit_record(actor=actor, verb="providers.question.retired", target=question, organisation=actor.organisation)
    return question


@transaction.atomic
def document_requirement_set(
    *, actor, kind: str, required: bool, suspends_when_expired: bool = True, reminder_days: int = 30
) -> DocumentRequirement | None:
    """A commissioner's setting for one kind of compliance document: required or not, whether its
    expiry stops new placements at the home, and how many days ahead the provider is reminded."""
    require(is_commissioner(actor), "Only commissioners set document requirements.")
    if kind not in DocumentKind.values:
        raise ApplicationError("Choose a kind of document.", code="kind_invalid", fields={"kind": "Choose one."})
    if not 1 <= reminder_days <= 365:
        raise ApplicationError(
            "Remind between 1 and 365 days ahead.", code="reminder_invalid", fields={"reminder_days": "1 to 365."}
        )
    existing = DocumentRequirement.objects.select_for_update().filter(commissioner=actor.organisation, kind=kind)
    if not required:
        existing.delete()
        audit_record(
            actor=actor,
            verb="providers.document_requirement.removed",
            target=actor.organisation,
            organisation=actor.organisation,
            detail={"kind": kind},
        )
        return None
    requirement, _ = DocumentRequirement.objects.update_or_create(
        commissioner=actor.organisation,
        kind=kind,
        defaults={"suspends_when_expired": suspends_when_expired, "reminder_days": reminder_days},
    )
    audit_record(
        actor=actor,
        verb="providers.document_requirement.set",
        target=requirement,
        organisation=actor.organisation,
        detail={"kind": kind, "suspends_when_expired": suspends_when_expired, "reminder_days": reminder_days},
    )
    return requirement


# What a file's first bytes must be for each type accepted: the name alone proves nothing.
DOCUMENT_SIGNATURES = {
    ".pdf": ("application/pdf", (b"%PDF-",)),
    ".png": ("image/png", (b"\x89PNG\r\n\x1a\n",)),
    ".jpg": ("image/jpeg", (b"\xff\xd8\xff",)),
    ".jpeg": ("image/jpeg", (b"\xff\xd8\xff",)),
    ".docx": (
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        (b"PK\x03\x04",),
    ),
}


def _check_upload(upload) -> str:
    """The content type of an acceptable upload, or a field error naming what is wrong."""
    name = (upload.name or "").lower()
    extension = name[name.rfind(".") :] if "." in name else ""
    if extension not in DOCUMENT_SIGNATURES:
        raise ApplicationError(
            "The file must be a PDF, PNG, JPEG or Word (.docx) document.",
            code="file_type",
            fields={"file": "The file must be a PDF, PNG, JPEG or Word (.docx) document."},
        )
    limit = settings.COMPLIANCE_DOCUMENT_MAX_BYTES
    if upload.size == 0:
        raise ApplicationError("The file is empty.", code="file_empty", fields={"file": "The selected file is empty."})
    if upload.size > limit:
        message = f"The file must be smaller than {limit // (1024 * 1024) or 1} MB."
        raise ApplicationError(message, code="file_too_large", fields={"file": message})
    content_type, signatures = DOCUMENT_SIGNATURES[extension]
    upload.seek(0)
    head = upload.read(16)
    upload.seek(0)
    if not any(head.startswith(signature) for signature in signatures):
        message = f"The file is not a real {extension[1:].upper()} document."
        raise ApplicationError(message, code="file_content", fields={"file": message})
    return content_type


@transaction.atomic
def compliance_document_upload(
    *, actor, care_home: CareHome, kind: str, upload, expires_on: date
) -> ComplianceDocument:
    """Upload a home's compliance document; one of the same kind it renews is kept, superseded."""
    _require_own_home(actor, care_home)
    if kind not in DocumentKind.values:
        raise ApplicationError("Choose the kind of document.", code="kind_invalid", fields={"kind": "Choose one."})
    if expires_on is None or expires_on <= timezone.localdate():
        message = "Enter an expiry date in the future."
        raise ApplicationError(message, code="expiry_invalid", fields={"expires_on": message})
    content_type = _check_upload(upload)
    CareHome.objects.select_for_update().get(pk=care_home.pk)
    now = timezone.now()
    renewed = list(
        ComplianceDocument.objects.filter(care_home=care_home, kind=kind, superseded_at=None).values_list(
            "pk", flat=True
        )
    )
    ComplianceDocument.objects.filter(pk__in=renewed).update(superseded_at=now)
    document = ComplianceDocument(
        care_home=care_home,
        kind=kind,
        original_name=upload.name[-200:],
        content_type=content_type,
        size=upload.size,
        expires_on=expires_on,
        uploaded_by=actor,
    )
    document.file.save(upload.name, upload, save=False)
    document.save()
    audit_record(
        actor=actor,
        verb="providers.document.uploaded",
        target=care_home,
        organisation=actor.organisation,
        detail={"kind": kind, "expires_on": expires_on.isoformat(), "renews": renewed},
    )
    return document


def _requiring_bodies(document: ComplianceDocument):
    """The bodies on whose DPS the home is (applied, admitted or suspended) that require this kind."""
    return (
        DocumentRequirement.objects.filter(
            kind=document.kind,
            commissioner__admissions__care_home=document.care_home,
            commissioner__admissions__status__in=[*LIVE_STATUSES, Admission.Status.SUSPENDED],
        )
        .select_related("commissioner")
        .distinct()
        .order_by("commissioner__name")
    )


def compliance_reminders_send(*, on: date) -> int:
    """Remind providers of documents about to expire and tell them, and each body whose setting
    makes it stop placements, of those that have: each document and stage once, however often it
    runs. A document that expires under a suspending requirement takes the home out of that
    body's open tenders too. Returns how many reminders went out."""
    sent = 0
    for document in documents_due_for_reminder(on=on):
        if document.expires_on < on:
            stage = ComplianceReminder.Stage.EXPIRED
        elif document.expires_on - timedelta(days=document.reminder_days) <= on:
            stage = ComplianceReminder.Stage.DUE
        else:
            continue
        with transaction.atomic():
            _, created = ComplianceReminder.objects.get_or_create(document=document, stage=stage)
            if created:
                _remind(document, stage)
                sent += 1
    return sent


def _remind(document: ComplianceDocument, stage: str) -> None:
    home = document.care_home
    label = document.get_kind_display()
    expiry = f"{document.expires_on:%-d %B %Y}"
    link = reverse("providers:home_documents", kwargs={"pk": home.pk})
    if stage == ComplianceReminder.Stage.DUE:
        notify_organisation(
            organisation=home.provider,
            verb="providers.document.expiring",
            subject=f"{home.name}: {label} expires on {expiry}",
            template="emails/dps_message.txt",
            context={"message": f"The {label.lower()} of {home.name} expires on {expiry}. Upload its renewal."},
            dedupe_key=f"document-due:{document.pk}",
            link=link,
        )
        audit_record(
            actor=None,
            verb="providers.document.expiring",
            target=home,
            organisation=home.provider,
            detail={"kind": document.kind, "expires_on": document.expires_on.isoformat()},
        )
        return
    stopping = [r for r in _requiring_bodies(document) if r.suspends_when_expired]
    names = ", ".join(r.commissioner.name for r in stopping)
    consequence = f" {names} will place nobody new there until it is renewed." if stopping else ""
    notify_organisation(
        organisation=home.provider,
        verb="providers.document.expired",
        subject=f"{home.name}: {label} expired on {expiry}",
        template="emails/dps_message.txt",
        context={
            "message": f"The {label.lower()} of {home.name} expired on {expiry}.{consequence} Upload its renewal."
        },
        dedupe_key=f"document-expired:{document.pk}",
        link=link,
    )
    statement = f"{label} expired on {expiry}: no new placements until it is renewed."
    for requirement in stopping:
        notify_organisation(
            organisation=requirement.commissioner,
            roles=[Role.COMMISSIONER, Role.BROKER],
            verb="providers.document.expired",
            subject=f"{home.name}: {label} expired, no new placements",
            template="emails/dps_message.txt",
            context={"message": f"{home.name}: {statement}"},
            dedupe_key=f"document-expired:{document.pk}:{requirement.commissioner_id}",
            link=reverse("providers:members"),
        )
        _withdraw_from_tenders(care_home=home, actor=None, reason=statement, commissioner=requirement.commissioner)
    audit_record(
        actor=None,
        verb="providers.document.expired",
        target=home,
        organisation=home.provider,
        detail={
            "kind": document.kind,
            "expires_on": document.expires_on.isoformat(),
            "stops_placements_for": [r.commissioner.slug for r in stopping],
        },
    )


# Providers registering themselves


def cqc_provider_known(cqc_provider_id: str) -> bool:
    """Whether the imported CQC data lists care homes under this provider id."""
    return CareHome.objects.filter(cqc_provider_id=cqc_provider_id).exists()


@transaction.atomic
def provider_register(*, name: str, cqc_provider_id: str, full_name: str, email: str) -> User:
    """A care provider registers itself: an inactive organisation (or the one the CQC import made,
    while nobody uses it) and an inactive first user, who is e-mailed a one-time link to confirm the
    address and set a password. Nothing is active until that link is used."""
    name, cqc_provider_id, email = name.strip(), cqc_provider_id.strip(), email.strip().lower()
    errors = {}
    if not name:
        errors["name"] = "Enter the name of your organisation."
    if not full_name.strip():
        errors["full_name"] = "Enter your full name."
    if not cqc_provider_id:
        errors["cqc_provider_id"] = "Enter your CQC provider id."
    elif not cqc_provider_known(cqc_provider_id):
        errors["cqc_provider_id"] = (
            "The CQC data held here lists no care home under this provider id. Check it on your CQC registration."
        )
    if User.objects.filter(email=email).exists():
        errors["email"] = "This e-mail address is registered already. Sign in, or reset your password."
    organisation = Organisation.objects.select_for_update().filter(cqc_provider_id=cqc_provider_id).first()
    if cqc_provider_id and organisation is not None and organisation.users.exists():
        errors["cqc_provider_id"] = (
            "This provider is registered already. Ask the person who registered it to add you, or sign in."
        )
    if errors:
        raise ApplicationError("The registration cannot be made.", code="registration_invalid", fields=errors)
    if organisation is None:
        organisation = organisation_create(
            kind=Organisation.Kind.PROVIDER,
            name=name,
            slug=slugify(f"{name} {cqc_provider_id}")[:60],
            cqc_provider_id=cqc_provider_id,
        )
        organisation.is_active = False
        organisation.save(update_fields=["is_active"])
    user, _ = user_create(organisation=organisation, role=Role.PROVIDER, email=email, full_name=full_name.strip())
    user.set_unusable_password()
    user.is_active = False
    user.save(update_fields=["password", "is_active"])
    link = reverse(
        "providers:sign_up_confirm",
        kwargs={
            "uidb64": urlsafe_base64_encode(force_bytes(user.pk)),
            "token": default_token_generator.make_token(user),
        },
    )
    notify_users(
        users=[user],
        organisation=organisation,
        verb="providers.provider.registered",
        subject="Confirm your e-mail address to finish registering",
        template="emails/dps_message.txt",
        context={
            "message": f"You registered {organisation.name} to join councils' dynamic purchasing systems. "
            "Confirm your e-mail address and set your password with the link below; it works once."
        },
        dedupe_key=f"provider-registered:{user.pk}",
        link=link,
    )
    audit_record(
        actor=None,
        verb="providers.provider.registered",
        target=organisation,
        organisation=organisation,
        detail={"email": email, "cqc_provider_id": cqc_provider_id},
    )
    return user


@transaction.atomic
def provider_registration_confirm(*, user: User) -> User:
    """The registering contact used the link: the user, and an organisation nobody used yet, go live."""
    user = User.objects.select_for_update(of=("self",)).select_related("organisation").get(pk=user.pk)
    if not user.is_active:
        user.is_active = True
        user.save(update_fields=["is_active"])
        organisation = user.organisation
        if not organisation.is_active:
            organisation.is_active = True
            organisation.save(update_fields=["is_active"])
        audit_record(actor=user, verb="providers.provider.confirmed", target=organisation, organisation=organisation)
    return user
