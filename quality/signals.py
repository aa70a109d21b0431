"""Quality's registrations with the apps below it."""

from django.db.models import Count
from django.urls import reverse

from organisations.permissions import is_provider_user
from providers.notices import HomeNotice, HomeRisk, home_notice_source_register, home_risk_source_register

from .models import ImprovementAction
from .selectors import improvement_action_overdue_q, improvement_actions_of, risk_ratings_for


def improvement_plan_notice(*, actor, care_home) -> list[HomeNotice]:
    """Open and overdue improvement actions, on the home's page of the provider (every body's plan) and
    of the commissioner (its own body's plan)."""
    actions = improvement_actions_of(actor=actor, care_home=care_home).exclude(status=ImprovementAction.Status.DONE)
    counts = actions.aggregate(open=Count("pk"), overdue=Count("pk", filter=improvement_action_overdue_q()))
    if not counts["open"]:
        return []
    href = reverse("quality:provider_plan" if is_provider_user(actor) else "quality:plan", args=[care_home.pk])
    overdue = counts["overdue"]
    if overdue:
        words = "1 improvement action is overdue." if overdue == 1 else f"{overdue} improvement actions are overdue."
    else:
        words = f"Improvement actions open: {counts['open']}, none overdue."
    return [HomeNotice(text=words, href=href, link_text="See the improvement plan")]


def risk_of_homes(*, actor, care_home_ids) -> dict[int, HomeRisk]:
    """The council user's body's risk rating of each home (providers see none)."""
    return {
        pk: HomeRisk(rating=rating, reasons=tuple(reasons))
        for pk, (rating, reasons) in risk_ratings_for(actor=actor, care_home_ids=care_home_ids).items()
    }


home_notice_source_register(improvement_plan_notice)
home_risk_source_register(risk_of_homes)
