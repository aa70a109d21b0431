"""OpenAPI description of how callers authenticate, and of the scope and roles each operation needs.

Both come from the views themselves, in one place, so a new view cannot leave them out: the
permission classes say what they ask for (`roles_for(view, method)` and `scope_for(view, method)`, see
organisations.api_permissions), and `postprocess_operation_access` writes it on every operation
as the bearer requirement's scope (OpenAPI 3.1 lets a non-OAuth scheme name one),
`x-required-scopes`, `x-roles` and a sentence in the description. A view whose permissions name
no scope for API clients is reported as a schema error.
"""

from dataclasses import dataclass

from drf_spectacular.drainage import error
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework.permissions import AllowAny

from .authentication import ApiClientAuthentication
from .models import ApiClient, Role

SCHEME = "apiClientToken"
SCOPES_EXTENSION = "x-required-scopes"
ROLES_EXTENSION = "x-roles"
METHODS = ("get", "put", "post", "patch", "delete")

_SCOPE_LIST = "\n".join(f"- `{scope.value}`: {scope.label}" for scope in ApiClient.Scope)
SCHEME_DESCRIPTION = f"""An API client's token, shown once when the client is created: \
`Authorization: Bearer <key id>.<secret>`.

Each API client holds scopes, chosen when it is created. Every operation names the one scope it needs \
in its security requirement and in the `{SCOPES_EXTENSION}` extension (an empty list: API clients may \
not call it), and the roles that may call it in `{ROLES_EXTENSION}` (a system acts with its \
organisation's role: broker for a council, provider user for a provider). A client without the scope \
gets 403. The scopes:

{_SCOPE_LIST}
"""


class ApiClientAuthenticationScheme(OpenApiAuthenticationExtension):
    target_class = "organisations.authentication.ApiClientAuthentication"
    name = SCHEME

    def get_security_definition(self, auto_schema):
        return {
            "type": "http",
            "scheme": "bearer",
            "bearerFormat": "<key id>.<secret>",
            "description": SCHEME_DESCRIPTION,
        }


@dataclass(frozen=True)
class OperationAccess:
    """Who may call one operation: public, or these roles, and API clients with this scope (or none)."""

    public: bool
    roles: tuple[str, ...]
    scope: str | None


def operation_access(view, method: str) -> OperationAccess | None:
    """What the view's permission classes ask for on `method`; None when they do not say."""
    permissions = view.get_permissions()
    if any(isinstance(permission, AllowAny) for permission in permissions):
        return OperationAccess(public=True, roles=(), scope=None)
    roles = tuple(Role.values)
    for permission in permissions:
        if hasattr(permission, "roles_for"):
            roles = tuple(role for role in roles if role in permission.roles_for(view, method))
    takes_tokens = any(isinstance(auth, ApiClientAuthentication) for auth in view.get_authenticators())
    scopes = [permission.scope_for(view, method) for permission in permissions if hasattr(permission, "scope_for")]
    if takes_tokens and not scopes:
        return None
    scope = scopes[0] if takes_tokens and len(set(scopes)) == 1 else None
    return OperationAccess(public=False, roles=roles, scope=scope)


def _sentence(access: OperationAccess) -> str:
    if access.public:
        return "**Access:** open data; no sign-in needed."
    roles = ", ".join(Role(role).label.lower() for role in access.roles) or "nobody"
    systems = f"API clients with the `{access.scope}` scope" if access.scope else "not API clients"
    return f"**Access:** {roles}; {systems}."


def postprocess_operation_access(result, generator, request, public):
    """State on every operation the scope and roles its view's permission classes ask for."""
    paths = result.get("paths", {})
    for path, _regex, method, callback in generator.endpoints:
        view = generator.create_view(callback, method, request)
        operation = paths.get(generator.coerce_path(path, method, view), {}).get(method.lower())
        if operation is None:
            continue
        access = operation_access(view, method)
        if access is None:
            error(
                f"{view.__class__.__name__} takes API client tokens but no permission class names the scope "
                f"{method} needs: add HasScope (with required_scope/read_scope) or a permission with scope_for()."
            )
            continue
        if access.public:
            operation["security"] = []
        else:
            operation["security"] = [
                {SCHEME: [access.scope]} if SCHEME in requirement else requirement
                for requirement in operation.get("security", [])
                if access.scope or SCHEME not in requirement
            ]
        operation[SCOPES_EXTENSION] = [access.scope] if access.scope else []
        operation[ROLES_EXTENSION] = list(access.roles)
        description = operation.get("description", "").rstrip()
        operation["description"] = f"{description}\n\n{_sentence(access)}" if description else _sentence(access)
    return result
