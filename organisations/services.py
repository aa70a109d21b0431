"""Creating organisations, their people and their API clients."""

import secrets

from django.db import transaction
from django.utils import timezone
from django.utils.crypto import get_random_string
from django.utils.text import slugify

from core.audit import audit_record
from core.errors import ApplicationError, ConflictError, ForbiddenError

from .authentication import api_credentials_changed, hash_secret
from .models import COMMISSIONING_ROLES, ApiClient, Organisation, Role, User
from .permissions import can_manage_api_clients
from .signals import organisation_created


@transaction.atomic
def organisation_create(
    *,
    kind: str,
    name: str,
    slug: str = "",
    cqc_provider_id: str = "",
    local_authority: str = "",
    refers_to: list[str] = (),
    actor=None,
) -> Organisation:
    if kind not in Organisation.Kind.values:
        raise ApplicationError(
            f"Unknown organisation kind {kind!r}.", fields={"kind": "Choose council, nhs, provider or hospital."}
        )
    slug = slug or slugify(name)[:60]
    if Organisation.objects.filter(slug=slug).exists():
        raise ApplicationError(f"An organisation with slug {slug!r} already exists.", fields={"slug": "Already taken."})
    if cqc_provider_id and kind != Organisation.Kind.PROVIDER:
        raise ApplicationError(
            "Only care providers have a CQC provider id.", fields={"cqc_provider_id": "Leave blank."}
        )
    bodies = []
    if refers_to:
        if kind != Organisation.Kind.HOSPITAL:
            raise ApplicationError("Only hospitals refer people to bodies.", fields={"refers_to": "Leave blank."})
        bodies = list(
            Organisation.objects.filter(slug__in=refers_to, kind__in=[Organisation.Kind.COUNCIL, Organisation.Kind.NHS])
        )
        unknown = sorted(set(refers_to) - {body.slug for body in bodies})
        if unknown:
            raise ApplicationError(
                f"No council or NHS body with slug {', '.join(unknown)}.",
                fields={"refers_to": "Give the slugs of councils or NHS bodies."},
            )
    organisation = Organisation.objects.create(
        kind=kind, name=name, slug=slug, cqc_provider_id=cqc_provider_id, local_authority=local_authority
    )
    organisation.refers_to.set(bodies)
    organisation_created.send(sender=Organisation, organisation=organisation)
    audit_record(actor=actor, verb="organisations.organisation.created", target=organisation, organisation=organisation)
    return organisation


def _check_role_fits(organisation: Organisation, role: str) -> None:
    if role not in Role.values:
        raise ApplicationError(f"Unknown role {role!r}.", fields={"role": f"Choose one of {', '.join(Role.values)}."})
    if organisation.is_provider and role != Role.PROVIDER:
        raise ApplicationError("Provider organisations only have provider users.", fields={"role": "Must be provider."})
    if organisation.is_hospital and role != Role.DISCHARGE_COORDINATOR:
        raise ApplicationError(
            "Hospitals only have discharge coordinators.", fields={"role": "Must be discharge_coordinator."}
        )
    if organisation.is_commissioning_body and role not in COMMISSIONING_ROLES:
        raise ApplicationError(
            "Commissioning bodies have brokers and commissioners.", fields={"role": "Must be broker or commissioner."}
        )


@transaction.atomic
def user_create(
    *, organisation: Organisation, role: str, email: str, password: str | None = None, full_name: str = "", actor=None
) -> tuple[User, str]:
    """Create a person; returns the user and the password to hand over once."""
    _check_role_fits(organisation, role)
    email = email.strip().lower()
    if User.objects.filter(email=email).exists():
        raise ApplicationError(f"A user with e-mail {email} already exists.", fields={"email": "Already registered."})
    password = password or get_random_string(16)
    first, _, last = full_name.partition(" ")
    user = User.objects.create_user(
        email=email, password=password, organisation=organisation, role=role, first_name=first, last_name=last
    )
    audit_record(
        actor=actor, verb="organisations.user.created", target=user, organisation=organisation, detail={"role": role}
    )
    return user, password


@transaction.atomic
def api_client_create(
    *, organisation: Organisation, name: str, scopes: list[str], role: str = "", actor=None
) -> tuple[ApiClient, str]:
    """Register a system; returns the client and its token, which is never shown again.

    People may only register systems of their own organisation; `actor=None` is the
    operator's command line.
    """
    if actor is not None and not (can_manage_api_clients(actor) and actor.organisation_id == organisation.pk):
        raise ForbiddenError("Only commissioners and provider users register their organisation's systems.")
    unknown = sorted(set(scopes) - set(ApiClient.Scope.values))
    if unknown or not scopes:
        raise ApplicationError(
            f"Unknown scopes: {', '.join(unknown) or 'none given'}.",
            fields={"scopes": f"Choose from {', '.join(ApiClient.Scope.values)}."},
        )
    role = role or {
        Organisation.Kind.PROVIDER: Role.PROVIDER,
        Organisation.Kind.HOSPITAL: Role.DISCHARGE_COORDINATOR,
    }.get(organisation.kind, Role.BROKER)
    _check_role_fits(organisation, role)
    key_id = secrets.token_hex(8)
    secret = secrets.token_urlsafe(32)
    user = User.objects.create_user(
        email=f"api-{key_id}@clients.invalid",
        password=None,
        organisation=organisation,
        role=role,
        first_name=name[:150],
        is_service_account=True,
    )
    client = ApiClient.objects.create(
        organisation=organisation,
        name=name,
        key_id=key_id,
        secret_hash=hash_secret(secret),
        scopes=sorted(set(scopes)),
        user=user,
        created_by=actor if getattr(actor, "is_authenticated", False) else None,
    )
    audit_record(
        actor=actor,
        verb="organisations.api_client.created",
        target=client,
        organisation=organisation,
        detail={"scopes": client.scopes},
    )
    return client, f"{key_id}.{secret}"


@transaction.atomic
def api_client_revoke(*, client: ApiClient, actor=None) -> ApiClient:
    """Revoke at once: the next request with the token is refused (401)."""
    if actor is not None and not (can_manage_api_clients(actor) and actor.organisation_id == client.organisation_id):
        raise ForbiddenError("You cannot revoke this API client.")
    client = ApiClient.objects.select_for_update().get(pk=client.pk)
    if client.revoked_at is not None:
        raise ConflictError("This API client is already revoked.", code="already_revoked")
    client.revoked_at = timezone.now()
    client.save(update_fields=["revoked_at"])
    User.objects.filter(pk=client.user_id).update(is_active=False)
    api_credentials_changed()
    audit_record(actor=actor, verb="organisations.api_client.revoked", target=client, organisation=client.organisation)
    return client
