"""Who may manage an organisation's integrations (webhook subscriptions)."""

from organisations.models import Role


def can_manage_webhooks(user) -> bool:
    """Commissioners and provider users, and their organisation's API clients (with the scope)."""
    if not (user and user.is_authenticated and user.organisation_id):
        return False
    return user.is_service_account or user.role in (Role.COMMISSIONER, Role.PROVIDER)
