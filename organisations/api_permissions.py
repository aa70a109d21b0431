"""DRF permission classes: roles from the user, scopes from the API client.

Each class also says what it asks for, which the OpenAPI schema states on every operation
(organisations.schema): `roles_for(view, method)` names the roles a person or system needs, and
`scope_for(view, method)` the scope an API client needs (None: API clients may not).
"""

from rest_framework.permissions import SAFE_METHODS, BasePermission

from .models import ApiClient, Role


class _RolePermission(BasePermission):
    roles: tuple[str, ...] = ()

    def roles_for(self, view, method: str) -> tuple[str, ...]:
        return self.roles

    def has_permission(self, request, view):
        user = request.user
        return bool(user and user.is_authenticated and user.role in self.roles_for(view, request.method))


class IsBroker(_RolePermission):
    roles = (Role.BROKER,)


class IsCommissioner(_RolePermission):
    roles = (Role.COMMISSIONER,)


class IsCouncilUser(_RolePermission):
    roles = (Role.BROKER, Role.COMMISSIONER)


class IsProviderUser(_RolePermission):
    roles = (Role.PROVIDER,)


class IsDischargeCoordinator(_RolePermission):
    roles = (Role.DISCHARGE_COORDINATOR,)


class IsAnyRole(_RolePermission):
    roles = (Role.BROKER, Role.COMMISSIONER, Role.PROVIDER)


class IsAnyRoleProviderWrites(_RolePermission):
    """Every role reads; only provider users (and provider systems) write: a provider's own records."""

    roles = IsAnyRole.roles

    def roles_for(self, view, method: str) -> tuple[str, ...]:
        return self.roles if method in SAFE_METHODS else IsProviderUser.roles


class IsProviderOrCommissioner(_RolePermission):
    roles = (Role.COMMISSIONER, Role.PROVIDER)


class IsAnyRoleProviderOrCommissionerWrites(_RolePermission):
    """Every role reads; providers (their own records) and commissioners (their body's) write."""

    roles = IsAnyRole.roles

    def roles_for(self, view, method: str) -> tuple[str, ...]:
        return self.roles if method in SAFE_METHODS else IsProviderOrCommissioner.roles


class IsAnyRoleCommissionerWrites(_RolePermission):
    """Every role reads; only commissioners (and their bodies' systems) write: a body's contracts."""

    roles = IsAnyRole.roles

    def roles_for(self, view, method: str) -> tuple[str, ...]:
        return self.roles if method in SAFE_METHODS else IsCommissioner.roles


class IsAnyRoleCouncilWrites(_RolePermission):
    """Every role reads; only council users (and council systems) write: a body's own placements."""

    roles = IsAnyRole.roles

    def roles_for(self, view, method: str) -> tuple[str, ...]:
        return self.roles if method in SAFE_METHODS else IsCouncilUser.roles


class HasScope(BasePermission):
    """An API client needs the view's `required_scope` (reads need `read`); people need none."""

    message = "This API client lacks the scope for this operation."

    def scope_for(self, view, method: str) -> str | None:
        if method in SAFE_METHODS:
            return getattr(view, "read_scope", ApiClient.Scope.READ)
        return getattr(view, "required_scope", None)

    def has_permission(self, request, view):
        client = request.auth
        if not isinstance(client, ApiClient):
            return True
        needed = self.scope_for(view, request.method)
        return needed is not None and client.has_scope(needed)
