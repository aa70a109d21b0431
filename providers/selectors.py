"""Reads of homes, admissions and vacancies, scoped to the user asking."""

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal, InvalidOperation

from django.conf import settings
from django.contrib.postgres.expressions import ArraySubquery
from django.db.models import (
    BooleanField,
    Exists,
    ExpressionWrapper,
    F,
    IntegerField,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
    Sum,
)
from django.db.models.functions import Coalesce, JSONObject
from django.utils import timezone

from core.errors import NotFoundError
from lots.models import LotRules, Urgency
from lots.selectors import urgency_rules_for
from organisations.models import Organisation
from organisations.permissions import (
    is_commissioner,
    is_council_user,
    is_discharge_coordinator,
    is_provider_user,
    require,
)

from .geo import annotate_distance_km, bounding_box
from .models import (
    Admission,
    AdmissionClosure,
    AdmissionEvent,
    BedVacancy,
    CareHome,
    ComplianceDocument,
    DocumentRequirement,
    SelectionQuestion,
    Specialism,
    Vacancy,
)

# How long a confirmed bed vacancy counts for urgent requests when no urgency rule says otherwise.
DEFAULT_VACANCY_FRESH_HOURS = 24


def vacancy_stale_before():
    return timezone.now() - timedelta(days=settings.VACANCY_STALE_DAYS)


def _with_vacancy_summary(queryset: QuerySet) -> QuerySet:
    """Beds free now-or-later and when they were last confirmed, as subqueries (no row fan-out)."""
    beds = (
        Vacancy.objects.filter(care_home=OuterRef("pk"))
        .order_by()
        .values("care_home")
        .annotate(total=Sum("beds_free"))
        .values("total")
    )
    confirmed = Vacancy.objects.filter(care_home=OuterRef("pk")).order_by("-confirmed_at").values("confirmed_at")[:1]
    return queryset.annotate(
        beds_free=Coalesce(Subquery(beds, output_field=IntegerField()), 0),
        vacancies_confirmed_at=Subquery(confirmed),
    )


def care_home_list_for_provider(*, actor) -> QuerySet[CareHome]:
    require(is_provider_user(actor), "Only provider users have homes.")
    return _with_vacancy_summary(
        CareHome.objects.filter(provider=actor.organisation).select_related("current_rating")
    ).order_by("name")


def care_home_get_for_provider(*, actor, pk: int) -> CareHome:
    try:
        return care_home_list_for_provider(actor=actor).get(pk=pk)
    except CareHome.DoesNotExist:
        raise NotFoundError("No such care home.") from None


def admissions_for_provider(*, actor) -> QuerySet[Admission]:
    require(is_provider_user(actor), "Only provider users have applications.")
    return Admission.objects.filter(care_home__provider=actor.organisation).select_related(
        "care_home", "lot", "commissioner"
    )


def admissions_for_commissioner(*, actor) -> QuerySet[Admission]:
    require(is_commissioner(actor), "Only commissioners decide on applications.")
    return Admission.objects.filter(commissioner=actor.organisation).select_related(
        "care_home__current_rating", "care_home__provider", "lot", "applied_by"
    )


def admission_get_for_commissioner(*, actor, pk: int) -> Admission:
    try:
        return admissions_for_commissioner(actor=actor).get(pk=pk)
    except Admission.DoesNotExist:
        raise NotFoundError("No such application.") from None


def application_queue(*, actor) -> QuerySet[Admission]:
    return admissions_for_commissioner(actor=actor).filter(status=Admission.Status.APPLIED).order_by("applied_at")


def suspensions(*, actor) -> QuerySet[Admission]:
    latest = AdmissionEvent.objects.filter(admission=OuterRef("pk"), to_status=Admission.Status.SUSPENDED).order_by(
        "-at"
    )
    return (
        admissions_for_commissioner(actor=actor)
        .filter(status=Admission.Status.SUSPENDED)
        .annotate(
            suspended_at=Subquery(latest.values("at")[:1]),
            suspension_reason=Subquery(latest.values("reason")[:1]),
        )
        .order_by("-suspended_at")
    )


def vacancies_for_home(*, care_home: CareHome) -> QuerySet[Vacancy]:
    return Vacancy.objects.filter(care_home=care_home).select_related("lot").order_by("lot__number", "setting")


@dataclass(frozen=True)
class SearchFilters:
    lot: int | None = None
    rating: str = ""
    specialism: str = ""
    has_vacancy: bool | None = None
    local_authority: str = ""
    suspended: bool | None = None
    near: tuple[float, float] | None = None
    within_km: float | None = None


def _admissions_seen_by(actor) -> QuerySet[Admission]:
    """Providers see every body's admissions of their homes; councils only their own body's."""
    if is_provider_user(actor):
        return Admission.objects.all()
    return Admission.objects.filter(commissioner=actor.organisation)


def care_home_search_base(*, actor) -> QuerySet[CareHome]:
    """Homes for brokers and commissioners (every registered home, with their own body's admissions)
    and for providers (their own homes only), with everything a list shows in a fixed number of queries."""
    require(is_council_user(actor) or is_provider_user(actor), "Your role cannot search care homes.")
    homes = CareHome.objects.filter(registration_status=CareHome.RegistrationStatus.REGISTERED)
    if is_provider_user(actor):
        homes = homes.filter(provider=actor.organisation)
    return (
        _with_vacancy_summary(homes)
        .select_related("current_rating", "provider")
        .prefetch_related(
            "specialisms",
            Prefetch(
                "admissions",
                # The lot number and body as values: no lot or organisation objects to build per row.
                queryset=_admissions_seen_by(actor)
                .only("care_home_id", "status")
                .annotate(lot_number=F("lot__number"), commissioner_slug=F("commissioner__slug"))
                .order_by("lot__number"),
                to_attr="visible_admissions",
            ),
        )
        .order_by("name", "pk")
    )


def with_listed_relations(homes: QuerySet, *, actor) -> QuerySet:
    """Homes with their specialism codes and the admissions `actor` may see as arrays read in the
    same query (`specialism_codes`; `admission_rows` of commissioner, lot and status), for lists
    that show them without a query per relation."""
    admissions = (
        _admissions_seen_by(actor)
        .filter(care_home=OuterRef("pk"))
        .order_by("lot__number", "pk")
        .values(row=JSONObject(commissioner_slug="commissioner__slug", lot_number="lot__number", status="status"))
    )
    codes = Specialism.objects.filter(care_homes=OuterRef("pk")).order_by("name").values("code")
    return homes.prefetch_related(None).annotate(
        specialism_codes=ArraySubquery(codes), admission_rows=ArraySubquery(admissions)
    )


def filter_admitted_on_lot(homes: QuerySet, *, actor, lot: int) -> QuerySet:
    admissions = _admissions_seen_by(actor).filter(care_home=OuterRef("pk"))
    return homes.filter(Exists(admissions.filter(lot__number=lot, status=Admission.Status.ADMITTED)))


def filter_suspended(homes: QuerySet, *, actor, suspended: bool) -> QuerySet:
    admissions = _admissions_seen_by(actor).filter(care_home=OuterRef("pk"))
    condition = Exists(admissions.filter(status=Admission.Status.SUSPENDED))
    return homes.filter(condition) if suspended else homes.exclude(condition)


def filter_vacancy(homes: QuerySet, *, has_vacancy: bool) -> QuerySet:
    return homes.filter(beds_free__gt=0) if has_vacancy else homes.filter(beds_free=0)


def order_by_distance(homes: QuerySet, *, latitude: float, longitude: float, within_km: float | None) -> QuerySet:
    homes = homes.exclude(latitude=None).exclude(longitude=None)
    if within_km is not None:
        # The box (on the coordinates index) first, so the distance is worked out for nearby homes only.
        homes = homes.filter(**bounding_box(latitude, longitude, within_km))
    homes = annotate_distance_km(homes, latitude, longitude)
    if within_km is not None:
        homes = homes.filter(distance_km__lte=within_km)
    return homes.order_by("distance_km", "name", "pk")


def care_home_search(*, actor, filters: SearchFilters) -> QuerySet[CareHome]:
    homes = care_home_search_base(actor=actor)
    if filters.lot is not None:
        homes = filter_admitted_on_lot(homes, actor=actor, lot=filters.lot)
    if filters.suspended is not None:
        homes = filter_suspended(homes, actor=actor, suspended=filters.suspended)
    if filters.rating:
        homes = homes.filter(current_rating__overall=filters.rating)
    if filters.specialism:
        homes = homes.filter(specialisms__code=filters.specialism)
    if filters.local_authority:
        homes = homes.filter(local_authority__iexact=filters.local_authority)
    if filters.has_vacancy is not None:
        homes = filter_vacancy(homes, has_vacancy=filters.has_vacancy)
    if filters.near is not None:
        latitude, longitude = filters.near
        homes = order_by_distance(homes, latitude=latitude, longitude=longitude, within_km=filters.within_km)
    return homes


def care_home_get(*, actor, pk: int) -> CareHome:
    try:
        return care_home_search_base(actor=actor).get(pk=pk)
    except CareHome.DoesNotExist:
        raise NotFoundError("No such care home.") from None


# --- Closed to admissions: one rule for invitations, bids, pages and the API -------------------


def admission_closure_in_force_q(*, at: datetime | None = None, prefix: str = "") -> Q:
    """Closures holding at `at` (now by default): started, not yet ended, not lifted by then."""
    at = at or timezone.now()
    return (
        Q(**{f"{prefix}starts_at__lte": at})
        & (Q(**{f"{prefix}ends_at__isnull": True}) | Q(**{f"{prefix}ends_at__gt": at}))
        & (Q(**{f"{prefix}lifted_at__isnull": True}) | Q(**{f"{prefix}lifted_at__gt": at}))
    )


def _closures_for_body(commissioner) -> QuerySet[AdmissionClosure]:
    """Closures that bind `commissioner`: every body's, and its own embargoes (None: every body's only)."""
    body = Q(commissioner__isnull=True)
    if commissioner is not None:
        body |= Q(commissioner=commissioner)
    return AdmissionClosure.objects.filter(body)


def closed_to_admissions_q(commissioner, at: datetime | None = None) -> Q:
    """A filter over CareHome: the homes closed to admissions for `commissioner` at `at`."""
    closures = _closures_for_body(commissioner).filter(admission_closure_in_force_q(at=at), care_home=OuterRef("pk"))
    return Q(Exists(closures))


def care_home_closed_to_admissions(care_home, commissioner, at: datetime | None = None) -> bool:
    return _closures_for_body(commissioner).filter(admission_closure_in_force_q(at=at), care_home=care_home).exists()


def admission_closures_for_home(*, care_home) -> QuerySet[AdmissionClosure]:
    """Every closure of a home, newest first, for its provider's page and the API."""
    return (
        AdmissionClosure.objects.filter(care_home=care_home)
        .select_related("commissioner", "created_by", "lifted_by")
        .order_by("-starts_at", "-pk")
    )


def admission_closures_seen_by(*, actor, care_home) -> QuerySet[AdmissionClosure]:
    """A home's closures as `actor` may read them: the provider and back office all of them; a
    commissioning body the closures for every body and its own embargoes, not other bodies' ones."""
    closures = admission_closures_for_home(care_home=care_home)
    if is_provider_user(actor) or getattr(actor, "is_staff", False):
        return closures
    return closures.filter(Q(commissioner__isnull=True) | Q(commissioner_id=actor.organisation_id))


def admission_closure_state(closure: AdmissionClosure, *, at: datetime | None = None) -> str:
    """In words: "Lifted", "Ended", "Closed" or "Starts later"."""
    at = at or timezone.now()
    if closure.lifted_at is not None and closure.lifted_at <= at:
        return "Lifted"
    if closure.ends_at is not None and closure.ends_at <= at:
        return "Ended"
    return "Closed" if closure.starts_at <= at else "Starts later"


# --- Bed vacancies and their freshness: one rule for pages, the API and urgent sourcing ---------


def bed_vacancy_fresh_since(*, fresh_hours: int = DEFAULT_VACANCY_FRESH_HOURS, at: datetime | None = None):
    """The earliest confirmation that is still fresh: `fresh_hours` before `at` (now)."""
    return (at or timezone.now()) - timedelta(hours=fresh_hours)


def bed_vacancy_fresh_q(*, fresh_hours: int = DEFAULT_VACANCY_FRESH_HOURS, at: datetime | None = None, prefix=""):
    """Bed vacancies confirmed within `fresh_hours` of `at`, as a filter."""
    return Q(**{f"{prefix}confirmed_at__gte": bed_vacancy_fresh_since(fresh_hours=fresh_hours, at=at)})


def bed_vacancy_is_fresh(
    vacancy: BedVacancy, *, fresh_hours: int = DEFAULT_VACANCY_FRESH_HOURS, at: datetime | None = None
) -> bool:
    """Whether a vacancy counts for urgent requests; a stale one is shown as stale."""
    return vacancy.confirmed_at >= bed_vacancy_fresh_since(fresh_hours=fresh_hours, at=at)


def vacancy_fresh_hours_for(*, commissioner=None, lot=None) -> int:
    """The hours a confirmation stays fresh: the body's hospital discharge rule for the lot when both
    are known (the rule an urgent tender of theirs copies), else the default."""
    if commissioner is None or lot is None:
        return DEFAULT_VACANCY_FRESH_HOURS
    if not LotRules.objects.filter(commissioner=commissioner, lot=lot).exists():
        return DEFAULT_VACANCY_FRESH_HOURS
    return urgency_rules_for(commissioner, lot, Urgency.HOSPITAL_DISCHARGE).vacancy_fresh_hours


def bed_vacancies_for_home(*, care_home) -> QuerySet[BedVacancy]:
    return BedVacancy.objects.filter(care_home=care_home).select_related("lot", "confirmed_by")


def bed_vacancy_for_lot_q(lot, *, prefix: str = "") -> Q:
    """Vacancies that suit a lot: named for the lot itself, or for its setting."""
    return Q(**{f"{prefix}lot": lot}) | Q(**{f"{prefix}lot__isnull": True, f"{prefix}setting": lot.setting})


def admission_closures_liftable_by(*, actor) -> QuerySet[AdmissionClosure]:
    """Closures still holding or ahead that `actor` may lift: a provider its homes' closures for
    every body, a commissioner its own body's embargoes. Any other is unknown to them."""
    now = timezone.now()
    live = AdmissionClosure.objects.filter(lifted_at__isnull=True).filter(Q(ends_at__isnull=True) | Q(ends_at__gt=now))
    live = live.select_related("care_home", "commissioner")
    if is_provider_user(actor):
        return live.filter(care_home__provider=actor.organisation, commissioner__isnull=True)
    if is_commissioner(actor):
        return live.filter(commissioner=actor.organisation)
    return live.none()


def embargoes_for_commissioner(*, actor) -> QuerySet[AdmissionClosure]:
    """A body's own embargoes, newest first."""
    require(is_commissioner(actor), "Only commissioners embargo homes.")
    return (
        AdmissionClosure.objects.filter(commissioner=actor.organisation)
        .select_related("care_home", "created_by", "lifted_by")
        .order_by("-starts_at", "-pk")
    )


# --- Live vacancy search near a place, for brokers, commissioners and hospital discharge teams --


@dataclass(frozen=True)
class BedVacancyFilters:
    lot: object = None
    setting: str = ""
    room_type: str = ""
    en_suite: bool | None = None
    ground_floor: bool | None = None
    gender: str = ""
    bariatric: bool | None = None
    fresh_only: bool = False
    near: tuple[float, float] | None = None
    within_km: float | None = None


def _bed_vacancy_search_body(actor):
    """The commissioning body whose embargoes and rules bind the searcher's view: a council user's own
    body; a hospital's coordinators, who refer to several bodies, see closures for every body only."""
    return actor.organisation if is_council_user(actor) else None


def bed_vacancy_search(*, actor, filters: BedVacancyFilters) -> QuerySet[BedVacancy]:
    """Free beds in registered homes not closed to admissions (for the searcher's body), each with
    its home, nearest first from a point. Freshness is `bed_vacancy_is_fresh` against `fresh_since`
    (annotated as `fresh`), so pages and the API show it the same way. No amounts: none are kept here."""
    require(can_search_bed_vacancies(actor), "Your role cannot search vacancies.")
    homes = CareHome.objects.filter(registration_status=CareHome.RegistrationStatus.REGISTERED).exclude(
        closed_to_admissions_q(_bed_vacancy_search_body(actor))
    )
    fresh_hours = vacancy_fresh_hours_for(commissioner=_bed_vacancy_search_body(actor), lot=filters.lot)
    fresh_since = bed_vacancy_fresh_since(fresh_hours=fresh_hours)
    vacancies = (
        BedVacancy.objects.filter(care_home__in=homes)
        .select_related("care_home__current_rating", "lot")
        .annotate(fresh=ExpressionWrapper(Q(confirmed_at__gte=fresh_since), output_field=BooleanField()))
    )
    if filters.lot is not None:
        vacancies = vacancies.filter(bed_vacancy_for_lot_q(filters.lot))
    if filters.setting:
        vacancies = vacancies.filter(Q(setting=filters.setting) | Q(lot__setting=filters.setting))
    if filters.room_type:
        vacancies = vacancies.filter(room_type=filters.room_type)
    for name in ("en_suite", "ground_floor", "bariatric"):
        wanted = getattr(filters, name)
        if wanted:
            vacancies = vacancies.filter(**{name: True})
    if filters.gender:
        # A bed for anyone suits everyone; a women-only bed suits a woman only.
        vacancies = vacancies.filter(gender__in=[BedVacancy.Gender.ANY, filters.gender])
    if filters.fresh_only:
        vacancies = vacancies.filter(confirmed_at__gte=fresh_since)
    if filters.near is None:
        return vacancies.order_by("-confirmed_at", "pk")
    latitude, longitude = filters.near
    vacancies = vacancies.exclude(care_home__latitude=None).exclude(care_home__longitude=None)
    if filters.within_km is not None:
        box = bounding_box(latitude, longitude, filters.within_km)
        vacancies = vacancies.filter(**{f"care_home__{lookup}": value for lookup, value in box.items()})
    vacancies = annotate_distance_km(
        vacancies, latitude, longitude, lat_field="care_home__latitude", lng_field="care_home__longitude"
    )
    if filters.within_km is not None:
        vacancies = vacancies.filter(distance_km__lte=filters.within_km)
    return vacancies.order_by("distance_km", "pk")


def can_search_bed_vacancies(actor) -> bool:
    """Brokers and commissioners of a body and hospital discharge coordinators (and their systems)."""
    return is_council_user(actor) or is_discharge_coordinator(actor)


# Selection: the questionnaire and the compliance documents


def selection_questions(*, commissioner, lot) -> QuerySet[SelectionQuestion]:
    """The questions a body asks now of homes applying for a lot."""
    return SelectionQuestion.objects.filter(commissioner=commissioner, lot=lot, retired_at=None).order_by(
        "position", "pk"
    )


def answer_meets(question: SelectionQuestion, answer: str) -> bool:
    """Whether an answer gives what the question requires (any answer when it requires none)."""
    answer = (answer or "").strip()
    if not answer:
        return False
    required = question.required_answer.strip().lower()
    if not required:
        return True
    if question.answer_type == SelectionQuestion.AnswerType.YES_NO:
        return answer.lower() == required
    if question.answer_type == SelectionQuestion.AnswerType.NUMBER:
        try:
            return Decimal(answer) >= Decimal(required)
        except InvalidOperation:
            return False
    return True


def current_documents(*, care_home: CareHome) -> QuerySet[ComplianceDocument]:
    return ComplianceDocument.objects.filter(care_home=care_home, superseded_at=None).order_by("kind")


def document_failures(*, care_home: CareHome, commissioner, on) -> list[str]:
    """Each document the body requires that the home has not got in date on this day."""
    documents = {doc.kind: doc for doc in current_documents(care_home=care_home)}
    failures = []
    for requirement in DocumentRequirement.objects.filter(commissioner=commissioner):
        document = documents.get(requirement.kind)
        label = requirement.get_kind_display()
        if document is None:
            failures.append(f"{label}: not uploaded.")
        elif document.expires_on < on:
            failures.append(f"{label}: expired on {document.expires_on:%-d %B %Y}.")
    return failures


def selection_failures(*, admission: Admission, on) -> list[str]:
    """Why an application cannot be admitted on this day: each answer that does not give what its
    question requires, and each document the body requires missing or expired. Empty: it meets the selection criteria.

    The one rule the decision page shows and the admission service enforces.
    """
    # The questions asked when the home applied: a question added since does not bind it.
    failures = [
        f"“{answer.question.text}”: the answer does not meet the requirement."
        for answer in admission.answers.select_related("question")
        if not answer_meets(answer.question, answer.answer)
    ]
    return failures + document_failures(care_home=admission.care_home, commissioner=admission.commissioner, on=on)


def compliance_lapsed_q(commissioner_id, on) -> Q:
    """Homes with a document the body requires, and says suspends when expired, past its expiry on
    this day: they take no new placements from the body until the document is renewed."""
    suspending = DocumentRequirement.objects.filter(commissioner_id=commissioner_id, suspends_when_expired=True)
    lapsed = ComplianceDocument.objects.filter(
        care_home=OuterRef("pk"),
        superseded_at=None,
        expires_on__lt=on,
        kind__in=suspending.values("kind"),
    )
    return Q(Exists(lapsed))


def care_home_compliance_lapsed(*, care_home: CareHome, commissioner_id, on) -> bool:
    return CareHome.objects.filter(compliance_lapsed_q(commissioner_id, on), pk=care_home.pk).exists()


def documents_due_for_reminder(*, on) -> QuerySet[ComplianceDocument]:
    """Current documents some body requires whose reminder is due or which have expired, by the
    earliest reminder any requiring body asks for."""
    reminder_days = (
        DocumentRequirement.objects.filter(
            kind=OuterRef("kind"), commissioner__admissions__care_home=OuterRef("care_home")
        )
        .order_by("-reminder_days")
        .values("reminder_days")[:1]
    )
    return (
        ComplianceDocument.objects.filter(superseded_at=None, expires_on__lte=on + timedelta(days=366))
        .annotate(reminder_days=Subquery(reminder_days))
        .exclude(reminder_days=None)
        .select_related("care_home__provider")
        .order_by("expires_on", "pk")
    )


def selection_question_list(*, actor) -> QuerySet[SelectionQuestion]:
    require(is_commissioner(actor), "Only commissioners set selection questionnaires.")
    return (
        SelectionQuestion.objects.filter(commissioner_id=actor.organisation_id, retired_at=None)
        .select_related("lot")
        .order_by("lot__number", "position", "pk")
    )


def selection_question_get(*, actor, pk: int) -> SelectionQuestion:
    question = selection_question_list(actor=actor).filter(pk=pk).first()
    if question is None:
        raise NotFoundError("No such question.")
    return question


def document_requirement_list(*, actor) -> QuerySet[DocumentRequirement]:
    require(is_commissioner(actor), "Only commissioners set document requirements.")
    return DocumentRequirement.objects.filter(commissioner_id=actor.organisation_id).order_by("kind")


def compliance_document_get(*, actor, pk: int) -> ComplianceDocument:
    """A provider reads its own homes' documents; a commissioner those of homes on (or applying to)
    its DPS. Anyone else's is unknown to them."""
    documents = ComplianceDocument.objects.select_related("care_home")
    if is_provider_user(actor):
        documents = documents.filter(care_home__provider_id=actor.organisation_id)
    elif is_commissioner(actor):
        documents = documents.filter(
            Exists(Admission.objects.filter(care_home=OuterRef("care_home"), commissioner_id=actor.organisation_id))
        )
    else:
        documents = documents.none()
    document = documents.filter(pk=pk).first()
    if document is None:
        raise NotFoundError("No such document.")
    return document


def commissioning_bodies() -> QuerySet:
    return Organisation.objects.filter(
        kind__in=[Organisation.Kind.COUNCIL, Organisation.Kind.NHS], is_active=True
    ).order_by("name")


def commissioning_body_chosen(value):
    """The active council or NHS body a provider chose on the application page, or None."""
    if not str(value or "").isdigit():
        return None
    return commissioning_bodies().filter(pk=int(value)).first()


def selection_questions_of(*, commissioner) -> QuerySet[SelectionQuestion]:
    """All the questions a body asks now, of every lot, for the application page."""
    if commissioner is None:
        return SelectionQuestion.objects.none()
    return (
        SelectionQuestion.objects.filter(commissioner=commissioner, retired_at=None)
        .select_related("lot")
        .order_by("lot__number", "position", "pk")
    )


def off_dps_reason(*, care_home: CareHome, commissioner, lot) -> str:
    """Why a home is off a body's DPS for a lot, in words for the request's page; empty when the home
    is admitted to the lot for the body and lies in the body's own area."""
    admitted = Admission.objects.filter(
        commissioner=commissioner, care_home=care_home, lot=lot, status=Admission.Status.ADMITTED
    ).exists()
    if not admitted:
        return f"{care_home.name} is not on your DPS for {lot}."
    if home_out_of_area(care_home=care_home, commissioner=commissioner):
        return f"{care_home.name} is in another council's area ({care_home.local_authority})."
    return ""


def home_out_of_area(*, care_home: CareHome, commissioner) -> bool:
    """The home lies in another council's area: both areas known and different."""
    home_area, body_area = care_home.local_authority.strip().lower(), commissioner.local_authority.strip().lower()
    return bool(home_area and body_area and home_area != body_area)
