"""Small predicates about who may do what; services and views both call them."""

from core.errors import ForbiddenError, NotFoundError

from .models import Role


def is_broker(user) -> bool:
    return bool(user and user.is_authenticated and user.role == Role.BROKER)


def is_commissioner(user) -> bool:
    return bool(user and user.is_authenticated and user.role == Role.COMMISSIONER)


def is_council_user(user) -> bool:
    return bool(user and user.is_authenticated and user.role in (Role.BROKER, Role.COMMISSIONER))


def is_provider_user(user) -> bool:
    return bool(user and user.is_authenticated and user.role == Role.PROVIDER)


def is_discharge_coordinator(user) -> bool:
    """A hospital's discharge team member, or a hospital's system acting for it."""
    return bool(user and user.is_authenticated and user.role == Role.DISCHARGE_COORDINATOR)


def is_council_member(user, organisation_id: int) -> bool:
    """A broker or commissioner of this commissioning body."""
    return is_council_user(user) and user.organisation_id == organisation_id


def can_manage_api_clients(user) -> bool:
    """Commissioners and provider users register their organisation's systems; systems cannot."""
    return bool(
        user
        and user.is_authenticated
        and not user.is_service_account
        and user.organisation_id
        and user.role in (Role.COMMISSIONER, Role.PROVIDER)
    )


def require(allowed: bool, message: str = "You do not have permission to do that.") -> None:
    if not allowed:
        raise ForbiddenError(message)


def require_member_of(actor, organisation_id: int, *, not_found: str) -> None:
    """Another organisation's record is unknown to the actor (404), not merely refused."""
    if not (actor.is_authenticated and actor.organisation_id == organisation_id):
        raise NotFoundError(not_found)


def require_council_member(
    actor, organisation_id: int, message: str = "You do not have permission to do that."
) -> None:
    """Only a broker or commissioner of the commissioning body may do this (403)."""
    require(is_council_member(actor, organisation_id), message)


def require_council_member_or_system(actor, organisation_id: int) -> None:
    """`require_council_member` for work the service also does on its own account: with no actor
    (a tender closing and awarding on time, a lapsed award, the agreements command, the demo) the
    call is trusted."""
    if actor is not None:
        require_council_member(actor, organisation_id)
