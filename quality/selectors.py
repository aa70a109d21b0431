"""Reads of ratings and of a body's quality work (monitoring, concerns, improvement plans), scoped
to the person asking."""

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.db.models import Count, Exists, OuterRef, Q, QuerySet
from django.utils import timezone

from core.errors import NotFoundError
from lots.models import Lot
from organisations.models import Organisation
from organisations.permissions import is_commissioner, is_council_user, is_provider_user
from providers.models import Admission, AdmissionClosure, CareHome
from providers.selectors import admission_closure_in_force_q

from .models import (
    DEFAULT_RETURN_MEASURES,
    KEY_QUESTIONS,
    Concern,
    ImprovementAction,
    MonitoringFramework,
    MonitoringVisit,
    ProviderReturn,
    QualityScoringRule,
    RatingValue,
    ReturnMeasure,
)
from .permissions import can_see_ratings_of
from .scoring import DEFAULT_WEIGHTS, QualitySignals, risk_rating


def care_home_get_for_ratings(*, actor, pk: int) -> CareHome:
    """The home whose rating history the actor may see; unknown or not theirs is 404."""
    home = CareHome.objects.select_related("current_rating").filter(pk=pk).first()
    if home is None or not can_see_ratings_of(actor, home):
        raise NotFoundError("No such care home.")
    return home


def quality_homes_for(*, actor) -> QuerySet[CareHome]:
    """The homes whose quality a council user's body follows: those that applied to its DPS."""
    if not is_council_user(actor):
        return CareHome.objects.none()
    return CareHome.objects.filter(admissions__commissioner_id=actor.organisation_id).distinct()


def care_home_get_for_quality(*, actor, pk: int) -> CareHome:
    """A home on the body's DPS; any other home is unknown to it (404)."""
    home = quality_homes_for(actor=actor).select_related("provider", "current_rating").filter(pk=pk).first()
    if home is None:
        raise NotFoundError("No such care home on your DPS.")
    return home


def monitoring_framework_of(*, actor) -> MonitoringFramework | None:
    if not is_commissioner(actor) and not is_council_user(actor):
        return None
    return MonitoringFramework.objects.filter(commissioner_id=actor.organisation_id).first()


def monitoring_visits_of(*, actor, care_home: CareHome) -> QuerySet[MonitoringVisit]:
    """The body's own visits to the home, newest first; another body's visits are never shown."""
    return (
        MonitoringVisit.objects.filter(commissioner_id=actor.organisation_id, care_home=care_home)
        .select_related("recorded_by")
        .order_by("-visited_on", "-id")
    )


def latest_monitoring_scores(*, commissioner_id: int, care_home_ids) -> dict[int, MonitoringVisit]:
    """Each home's latest visit by the body (by visit date, then the later record), in one query."""
    visits = (
        MonitoringVisit.objects.filter(commissioner_id=commissioner_id, care_home_id__in=list(care_home_ids))
        .order_by("care_home_id", "-visited_on", "-id")
        .distinct("care_home_id")
    )
    return {visit.care_home_id: visit for visit in visits}


def concerns_of(*, actor, care_home: CareHome | None = None) -> QuerySet[Concern]:
    """The body's own complaints and safeguarding concerns (about one home, or every home)."""
    if not is_council_user(actor):
        return Concern.objects.none()
    concerns = Concern.objects.filter(commissioner_id=actor.organisation_id).select_related("embargo", "care_home")
    if care_home is not None:
        concerns = concerns.filter(care_home=care_home)
    return concerns.order_by("-received_on", "-id")


def concern_get(*, actor, pk: int) -> Concern:
    concern = concerns_of(actor=actor).filter(pk=pk).first()
    if concern is None:
        raise NotFoundError("No such concern.")
    return concern


def embargo_in_force(concern: Concern, *, at=None) -> bool:
    closure = concern.embargo
    return (
        closure is not None
        and AdmissionClosure.objects.filter(admission_closure_in_force_q(at=at), pk=closure.pk).exists()
    )


def embargo_reviews_due(*, actor, care_home: CareHome | None = None) -> QuerySet[Concern]:
    """Safeguarding embargoes of the body still in force whose review date has come: due for a decision.
    The review date never lifts an embargo by itself."""
    today = timezone.localdate()
    return concerns_of(actor=actor, care_home=care_home).filter(
        admission_closure_in_force_q(prefix="embargo__"), embargo__review_on__lte=today
    )


def improvement_actions_of(*, actor, care_home: CareHome) -> QuerySet[ImprovementAction]:
    """A commissioner sees its body's plan for the home; the home's provider sees every body's plan for
    its own home; nobody else sees any."""
    actions = ImprovementAction.objects.filter(care_home=care_home).select_related("commissioner")
    if is_provider_user(actor) and care_home.provider_id == actor.organisation_id:
        return actions.order_by("due_on", "id")
    if is_council_user(actor):
        return actions.filter(commissioner_id=actor.organisation_id).order_by("due_on", "id")
    return ImprovementAction.objects.none()


def improvement_action_get(*, actor, pk: int) -> ImprovementAction:
    item = ImprovementAction.objects.select_related("care_home", "commissioner").filter(pk=pk).first()
    if item is None or not improvement_actions_of(actor=actor, care_home=item.care_home).filter(pk=pk).exists():
        raise NotFoundError("No such improvement action.")
    return item


def improvement_action_overdue_q(*, on=None) -> Q:
    """Overdue: past its due date and not done."""
    return Q(due_on__lt=on or timezone.localdate()) & ~Q(status=ImprovementAction.Status.DONE)


def overdue_improvement_actions(*, actor, care_home: CareHome) -> QuerySet[ImprovementAction]:
    return improvement_actions_of(actor=actor, care_home=care_home).filter(improvement_action_overdue_q())


def quality_signals_for(*, commissioner_id: int, care_home_ids) -> dict[int, QualitySignals]:
    """Each home's quality signals for a body, in five queries whatever the number of homes: its current
    CQC rating, the body's latest monitoring score, open safeguarding concerns, overdue improvement
    actions and whether the body's embargo holds it."""
    ids = list(care_home_ids)
    ratings = {
        row["pk"]: row
        for row in CareHome.objects.filter(pk__in=ids).values(
            "pk",
            "current_rating__overall",
            "current_rating__report_date",
            *(f"current_rating__{name}" for name in KEY_QUESTIONS),
        )
    }
    latest = latest_monitoring_scores(commissioner_id=commissioner_id, care_home_ids=ids)
    concerns = dict(
        Concern.objects.filter(
            commissioner_id=commissioner_id,
            care_home_id__in=ids,
            kind=Concern.Kind.SAFEGUARDING,
        )
        .exclude(status=Concern.Status.CLOSED)
        .order_by()
        .values_list("care_home_id")
        .annotate(n=Count("pk"))
    )
    overdue = dict(
        ImprovementAction.objects.filter(
            improvement_action_overdue_q(), commissioner_id=commissioner_id, care_home_id__in=ids
        )
        .order_by()
        .values_list("care_home_id")
        .annotate(n=Count("pk"))
    )
    embargoed = set(
        AdmissionClosure.objects.filter(
            admission_closure_in_force_q(), commissioner_id=commissioner_id, care_home_id__in=ids
        ).values_list("care_home_id", flat=True)
    )
    signals = {}
    for pk in ids:
        row = ratings.get(pk, {})
        overall = row.get("current_rating__overall")
        signals[pk] = QualitySignals(
            overall=overall if overall and overall != RatingValue.NOT_RATED else None,
            key_questions={
                name: row.get(f"current_rating__{name}") for name in KEY_QUESTIONS if row.get(f"current_rating__{name}")
            },
            report_date=row.get("current_rating__report_date"),
            monitoring=latest[pk].score if pk in latest else None,
            open_safeguarding=concerns.get(pk, 0),
            overdue_actions=overdue.get(pk, 0),
            embargoed=pk in embargoed,
        )
    return signals


def risk_ratings_for(*, actor, care_home_ids) -> dict[int, tuple[str, list[str]]]:
    """The risk rating of each home for the council user's body (nobody else sees one)."""
    if not is_council_user(actor):
        return {}
    on = timezone.localdate()
    signals = quality_signals_for(commissioner_id=actor.organisation_id, care_home_ids=care_home_ids)
    return {pk: risk_rating(s, on=on) for pk, s in signals.items()}


def quality_scoring_rules_of(*, actor) -> list[QualityScoringRule]:
    """The body's rule for every lot: saved, or the default (the CQC overall rating alone), unsaved."""
    saved = {rule.lot_id: rule for rule in QualityScoringRule.objects.filter(commissioner_id=actor.organisation_id)}
    return [
        saved.get(lot.pk) or QualityScoringRule(commissioner_id=actor.organisation_id, lot=lot)
        for lot in Lot.objects.order_by("number")
    ]


def quality_rule_snapshot(*, commissioner, lot) -> dict:
    """What a tender copies when it is published: the body's weights for the lot (default: the CQC
    overall rating alone, which scores as before)."""
    rule = QualityScoringRule.objects.filter(commissioner=commissioner, lot=lot).first()
    weights = {part: weight for part, weight in rule.weights().items() if weight} if rule else dict(DEFAULT_WEIGHTS)
    return {"weights": weights}


# --- Provider returns ------------------------------------------------------------------------------


def return_bodies_for_home(*, care_home: CareHome) -> QuerySet[Organisation]:
    """The bodies whose DPS the home is admitted to: those it sends returns to."""
    return (
        Organisation.objects.filter(admissions__care_home=care_home, admissions__status=Admission.Status.ADMITTED)
        .distinct()
        .order_by("name")
    )


def provider_returns_of_home(*, actor, care_home: CareHome) -> QuerySet[ProviderReturn]:
    """The home's provider sees its returns to every body; a council user sees those to its own body;
    nobody else sees any."""
    returns = ProviderReturn.objects.filter(care_home=care_home).select_related("commissioner", "submitted_by")
    if is_provider_user(actor) and care_home.provider_id == actor.organisation_id:
        return returns.order_by("-submitted_at", "-id")
    if is_council_user(actor):
        return returns.filter(commissioner_id=actor.organisation_id).order_by("-submitted_at", "-id")
    return ProviderReturn.objects.none()


def provider_returns_of_body(*, actor) -> QuerySet[ProviderReturn]:
    """The returns the homes on the body's DPS have sent it, newest first."""
    if not is_council_user(actor):
        return ProviderReturn.objects.none()
    return (
        ProviderReturn.objects.filter(commissioner_id=actor.organisation_id)
        .select_related("care_home", "submitted_by")
        .order_by("-submitted_at", "-id")
    )


def provider_return_get(*, actor, pk: int) -> ProviderReturn:
    """One return the actor may see: the body's own, or the provider's own home's; otherwise 404."""
    item = ProviderReturn.objects.select_related("care_home", "commissioner", "submitted_by").filter(pk=pk).first()
    if item is None or not provider_returns_of_home(actor=actor, care_home=item.care_home).filter(pk=pk).exists():
        raise NotFoundError("No such return.")
    return item


def return_measures_of(*, actor) -> QuerySet[ReturnMeasure]:
    """The body's return measures, in use first and then retired, each in its order."""
    if not is_council_user(actor):
        return ReturnMeasure.objects.none()
    return (
        ReturnMeasure.objects.filter(commissioner_id=actor.organisation_id)
        .select_related("lot")
        .order_by("-active", "position", "id")
    )


# A return is due this many days after its period ends; homes are reminded from the day after the end.
RETURN_DUE_DAYS = 30


@dataclass(frozen=True)
class ReturnPeriod:
    period: str
    kind: str
    ends_on: date

    @property
    def due_on(self) -> date:
        return self.ends_on + timedelta(days=RETURN_DUE_DAYS)


def return_periods_ended(on: date) -> list[ReturnPeriod]:
    """The returns that fall due from `on`: the quarter and the year that ended last before it."""
    quarter = (on.month - 1) // 3  # the quarter before the one `on` is in, 0 meaning last year's fourth
    year = on.year if quarter else on.year - 1
    quarter = quarter or 4
    quarter_end = date(year, quarter * 3, 1) + timedelta(days=31)
    quarter_end = quarter_end.replace(day=1) - timedelta(days=1)
    return [
        ReturnPeriod(f"{year}-Q{quarter}", ProviderReturn.PeriodKind.QUARTERLY, quarter_end),
        ReturnPeriod(str(on.year - 1), ProviderReturn.PeriodKind.ANNUAL, date(on.year - 1, 12, 31)),
    ]


@dataclass(frozen=True)
class OutstandingReturn:
    commissioner: Organisation
    care_home: CareHome
    period: ReturnPeriod


def returns_outstanding(*, on: date, commissioner_id: int | None = None) -> list[OutstandingReturn]:
    """The returns homes owe on `on`: for the last ended quarter and year, from each home admitted to a
    body's DPS by the period's end that has not sent it. A body that has retired every measure asks
    for none. Ordered by body, period and home."""
    measures = ReturnMeasure.objects.filter(commissioner_id=OuterRef("pk"))
    asking = Organisation.objects.filter(
        Exists(Admission.objects.filter(commissioner_id=OuterRef("pk"), status=Admission.Status.ADMITTED))
    ).exclude(Exists(measures) & ~Exists(measures.filter(active=True)))
    if commissioner_id is not None:
        asking = asking.filter(pk=commissioner_id)
    bodies = {body.pk: body for body in asking}
    owed = []
    for period in return_periods_ended(on):
        ended = datetime.combine(period.ends_on + timedelta(days=1), time.min, tzinfo=timezone.get_current_timezone())
        pairs = (
            Admission.objects.filter(commissioner_id__in=bodies, status=Admission.Status.ADMITTED)
            .filter(Q(decided_at__isnull=True) | Q(decided_at__lt=ended))
            .exclude(
                Exists(
                    ProviderReturn.objects.filter(
                        care_home_id=OuterRef("care_home_id"),
                        commissioner_id=OuterRef("commissioner_id"),
                        period=period.period,
                    )
                )
            )
            .values_list("commissioner_id", "care_home_id")
            .distinct()
        )
        pairs = sorted(set(pairs))
        homes = CareHome.objects.select_related("provider").in_bulk({home for _, home in pairs})
        owed += [OutstandingReturn(bodies[body], homes[home], period) for body, home in pairs]
    return sorted(owed, key=lambda o: (o.commissioner.name, o.period.period, o.care_home.name, o.care_home.pk))


def default_return_measures(commissioner_id: int) -> list[ReturnMeasure]:
    """The set a body asks for until it keeps its own (unsaved: answered by name)."""
    return [
        ReturnMeasure(commissioner_id=commissioner_id, name=name, kind=kind, unit=unit, position=position)
        for position, (name, kind, unit) in enumerate(DEFAULT_RETURN_MEASURES, start=1)
    ]


def return_measures_asked(*, actor) -> list[ReturnMeasure]:
    """A council user's body's measures (retired ones last), or the default set it asks until it keeps
    its own; for a provider, the measures in use of each body whose DPS one of its homes is on."""
    if is_council_user(actor):
        return list(return_measures_of(actor=actor)) or default_return_measures(actor.organisation_id)
    if not is_provider_user(actor):
        return []
    bodies = list(
        Admission.objects.filter(care_home__provider_id=actor.organisation_id, status=Admission.Status.ADMITTED)
        .values_list("commissioner_id", flat=True)
        .distinct()
        .order_by("commissioner_id")
    )
    saved: dict[int, list[ReturnMeasure]] = {}
    for measure in ReturnMeasure.objects.filter(commissioner_id__in=bodies).select_related("lot"):
        saved.setdefault(measure.commissioner_id, []).append(measure)
    asked = []
    for body in bodies:
        if body in saved:
            asked += [m for m in saved[body] if m.active]
        else:
            asked += default_return_measures(body)
    return asked
