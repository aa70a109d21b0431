"""Reads of ratings and of a body's quality work (monitoring, concerns, improvement plans), scoped
to the person asking."""

from django.db.models import Q, QuerySet
from django.utils import timezone

from core.errors import NotFoundError
from organisations.permissions import is_commissioner, is_council_user, is_provider_user
from providers.models import AdmissionClosure, CareHome
from providers.selectors import admission_closure_in_force_q

from .models import Concern, ImprovementAction, MonitoringFramework, MonitoringVisit
from .permissions import can_see_ratings_of


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
