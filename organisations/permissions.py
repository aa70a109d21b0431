"""Small predicates about who may do what; services and views both call them."""

from core.errors import ForbiddenError

from .models import Role


def is_broker(user) -> bool:
    return bool(user and user.is_authenticated and user.role == Role.BROKER)


def is_commissioner(user) -> bool:
    return bool(user and user.is_authenticated and user.role == Role.COMMISSIONER)


def is_council_user(user) -> bool:
    return bool(user and user.is_authenticated and user.role in (Role.BROKER, Role.COMMISSIONER))


def is_provider_user(user) -> bool:
    return bool(user and user.is_authenticated and user.role == Role.PROVIDER)


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
