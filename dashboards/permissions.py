"""Who may read a dashboard: only a commissioning body's own people and systems, and only its figures."""

from core.errors import ForbiddenError
from organisations.models import COMMISSIONING_ROLES, Organisation, Role


def dashboard_commissioner(actor, *, roles=(Role.COMMISSIONER,)) -> Organisation:
    """The commissioning body whose figures `actor` may read; anyone else is refused.

    Every page, API call and download asks this first, so a user only ever sees their own body's figures.
    """
    organisation = actor.organisation if actor.is_authenticated and actor.organisation_id else None
    if organisation is None or not organisation.is_commissioning_body:
        raise ForbiddenError("Dashboards are for commissioning bodies.")
    allowed = set(roles)
    if getattr(actor, "is_service_account", False):
        allowed |= set(COMMISSIONING_ROLES)
    if actor.role not in allowed:
        raise ForbiddenError("Your role cannot read this dashboard.")
    return organisation
