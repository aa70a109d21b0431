"""Emitting webhook events from services, and the payloads they carry.

Services call `emit(...)` inside their transaction; the event is recorded once per
organisation and dedupe key, and deliveries are queued after commit. Payloads are built
here so that what leaves the service is decided in one place: never a sealed bid amount
before the window closes, and no personal data beyond the case reference.
"""

from bidding.selectors import bid_amounts_public

from .models import WebhookEvent
from .services import webhook_event_record, webhook_events_record

Type = WebhookEvent.Type

# Keys that carry personal data or free text about a person; a payload must not contain them.
FORBIDDEN_KEYS = frozenset(
    {"needs_summary", "top_up_payer", "notes", "first_name", "last_name", "email", "date_of_birth", "nhs_number"}
)


def _forbidden_keys(value) -> set[str]:
    if isinstance(value, dict):
        found = FORBIDDEN_KEYS & set(value)
        for item in value.values():
            found |= _forbidden_keys(item)
        return found
    if isinstance(value, list):
        return set().union(*(_forbidden_keys(item) for item in value)) if value else set()
    return set()


def _require_no_personal_data(payload: dict) -> None:
    forbidden = _forbidden_keys(payload)
    if forbidden:
        raise ValueError(f"Webhook payloads must not carry {', '.join(sorted(forbidden))}")


def emit(*, event: str, organisation, payload: dict, dedupe_key: str) -> WebhookEvent:
    """Record `event` for `organisation` once per `dedupe_key` and queue its deliveries on commit."""
    _require_no_personal_data(payload)
    return webhook_event_record(event=event, organisation=organisation, payload=payload, dedupe_key=dedupe_key)


def emit_each(*, event: str, items: list[tuple]) -> list[WebhookEvent]:
    """`emit` for each (organisation, payload, dedupe key) of `items`, in a fixed number of queries."""
    for _, payload, _ in items:
        _require_no_personal_data(payload)
    return webhook_events_record(event=event, items=items)


def placement_request_payload(request) -> dict:
    return {
        "placement_request": {
            "id": request.pk,
            "case_reference": request.case_reference,
            "lot": request.lot.number,
            "status": request.status,
            "needed_from": request.needed_from,
            "target_date": request.target_date,
        }
    }


def tender_payload(tender, *, for_provider: bool = False) -> dict:
    """A tender's state; the number of bids only once the window has closed, amounts never.

    Providers see tenders without the case reference, as on their pages.
    """
    data = {
        "id": tender.pk,
        "placement_request_id": tender.request_id,
        "lot": tender.request.lot.number,
        "status": tender.status,
        "opened_at": tender.opened_at,
        "closes_at": tender.closes_at,
        "closed_at": tender.closed_at,
        "evaluated_at": tender.evaluated_at,
    }
    if not for_provider:
        data["case_reference"] = tender.request.case_reference
    if tender.closed_at is not None and bid_amounts_public(tender):
        data["bid_count"] = tender.bids.filter(status="submitted").count()
    return {"tender": data}


def _care_home(home) -> dict:
    return {
        "id": home.pk,
        "name": home.name,
        "cqc_location_id": home.cqc_location_id,
        "provider": {"id": home.provider_id, "name": home.provider.name},
    }


def award_payload(award) -> dict:
    payload = tender_payload(award.tender)
    payload["award"] = {
        "id": award.pk,
        "bid_id": award.bid_id,
        "care_home": _care_home(award.bid.care_home),
        "weekly_fee": award.bid.weekly_fee,
        "top_up_weekly_amount": award.top_up_weekly_amount,
        "top_ranked": award.top_ranked,
        "awarded_at": award.awarded_at,
    }
    return payload


def placement_payload(placement) -> dict:
    return {
        "placement": {
            "id": placement.pk,
            "placement_request_id": placement.request_id,
            "case_reference": placement.case_reference,
            "care_home": _care_home(placement.care_home) if placement.care_home_id else None,
            "lot": placement.lot.number,
            "source": placement.source,
            "start_date": placement.start_date,
            "weekly_fee": placement.weekly_fee,
            "council_weekly_amount": placement.council_weekly_amount,
            "top_up_weekly_amount": placement.top_up_weekly_amount,
        }
    }


def care_home_payload(home, *, lots: list[int] | None = None) -> dict:
    data = _care_home(home)
    if lots is not None:
        data["lots"] = sorted(lots)
    return {"care_home": data}


# One call per event for the services that emit them. Each is safe to call twice.


def placement_request_published(tender) -> None:
    """To the commissioning body, and to each invited provider (without the case reference)."""
    payload = {**placement_request_payload(tender.request), **tender_payload(tender)}
    emit(
        event=Type.PLACEMENT_REQUEST_PUBLISHED,
        organisation=tender.request.commissioner,
        payload=payload,
        dedupe_key=f"placement_request.published:tender-{tender.pk}",
    )
    providers = {
        invitation.care_home.provider for invitation in tender.invitations.select_related("care_home__provider")
    }
    for_providers = tender_payload(tender, for_provider=True)
    emit_each(
        event=Type.PLACEMENT_REQUEST_PUBLISHED,
        items=[
            (provider, for_providers, f"placement_request.published:tender-{tender.pk}")
            for provider in sorted(providers, key=lambda provider: provider.pk)
        ],
    )


def _own_bid(bid, *, outcome: str) -> dict:
    """A provider's own bid: its own fee is no secret to it."""
    return {
        "id": bid.pk,
        "care_home": {"id": bid.care_home_id, "name": bid.care_home.name},
        "weekly_fee": bid.weekly_fee,
        "status": bid.status,
        "outcome": outcome,
    }


def _bids_by_provider(tender) -> dict:
    by_provider: dict = {}
    bids = tender.bids.filter(status="submitted").select_related("care_home", "provider").order_by("pk")
    for bid in bids:
        by_provider.setdefault(bid.provider, []).append(bid)
    return by_provider


def tender_closed(tender) -> None:
    """To the commissioning body, and to each bidding provider with its own bids only (the window has closed)."""
    emit(
        event=Type.TENDER_CLOSED,
        organisation=tender.request.commissioner,
        payload=tender_payload(tender),
        dedupe_key=f"tender.closed:{tender.pk}",
    )
    for_providers = tender_payload(tender, for_provider=True)
    emit_each(
        event=Type.TENDER_CLOSED,
        items=[
            (
                provider,
                {**for_providers, "bids": [_own_bid(bid, outcome="pending") for bid in bids]},
                f"tender.closed:{tender.pk}",
            )
            for provider, bids in _bids_by_provider(tender).items()
        ],
    )


def tender_evaluated(tender) -> None:
    emit(
        event=Type.TENDER_EVALUATED,
        organisation=tender.request.commissioner,
        payload=tender_payload(tender),
        dedupe_key=f"tender.evaluated:{tender.pk}",
    )


def tender_awarded(award) -> None:
    """To the commissioning body and to the winning provider; each other bid's provider hears its bid lost."""
    payload = award_payload(award)
    for organisation in (award.tender.request.commissioner, award.bid.provider):
        emit(
            event=Type.TENDER_AWARDED,
            organisation=organisation,
            payload=payload,
            # Keyed by bid too: when a bed hold lapses, the next bid's award is a new event.
            dedupe_key=f"tender.awarded:{award.tender_id}:{award.bid_id}",
        )
    for_providers = tender_payload(award.tender, for_provider=True)
    emit_each(
        event=Type.BID_UNSUCCESSFUL,
        items=[
            (
                provider,
                {**for_providers, "bid": _own_bid(bid, outcome="unsuccessful")},
                f"bid.unsuccessful:{bid.pk}:award-{award.bid_id}",
            )
            for provider, bids in _bids_by_provider(award.tender).items()
            for bid in bids
            if bid.pk != award.bid_id
        ],
    )


def invitation_withdrawn(invitation, *, bid=None, cause: str) -> None:
    """To the invited home's provider. `cause` is a code; people's own words about why stay out,
    as they may be about a resident."""
    for_provider = tender_payload(invitation.tender, for_provider=True)
    emit_each(event=Type.INVITATION_WITHDRAWN, items=[_invitation_withdrawn_item(invitation, bid, cause, for_provider)])


def _invitation_withdrawn_item(invitation, bid, cause: str, for_provider: dict) -> tuple:
    data = {
        "id": invitation.pk,
        "care_home": {"id": invitation.care_home_id, "name": invitation.care_home.name},
        "cause": cause,
    }
    if bid is not None:
        data["bid"] = {"id": bid.pk, "status": bid.status}
    return (
        invitation.care_home.provider,
        {**for_provider, "invitation": data},
        f"invitation.withdrawn:{invitation.pk}:{cause}",
    )


def care_home_invitation_withdrawn(invitation, *, bid=None) -> None:
    invitation_withdrawn(invitation, bid=bid, cause="care_home_suspended")


def tender_cancelled(tender) -> None:
    """Every invitation still standing is withdrawn with the tender."""
    bids = {bid.invitation_id: bid for bid in tender.bids.filter(status="submitted")}
    invitations = tender.invitations.filter(status="invited").select_related("care_home__provider")
    for_providers = tender_payload(tender, for_provider=True)
    emit_each(
        event=Type.INVITATION_WITHDRAWN,
        items=[
            _invitation_withdrawn_item(invitation, bids.get(invitation.pk), "tender_cancelled", for_providers)
            for invitation in invitations.order_by("pk")
        ],
    )


def placement_started(placement) -> None:
    organisations = [placement.commissioner]
    if placement.care_home_id:
        organisations.append(placement.care_home.provider)
    for organisation in organisations:
        emit(
            event=Type.PLACEMENT_STARTED,
            organisation=organisation,
            payload=placement_payload(placement),
            dedupe_key=f"placement.started:{placement.pk}",
        )


def care_home_suspended(home, *, commissioner, lots: list[int], dedupe_key: str) -> None:
    """To the commissioning body whose DPS suspended the home, and to the home's provider.

    The reason is left out: a commissioner's own words may be about a resident.
    """
    for organisation in (commissioner, home.provider):
        emit(
            event=Type.CARE_HOME_SUSPENDED,
            organisation=organisation,
            payload=care_home_payload(home, lots=lots),
            dedupe_key=f"care_home.suspended:{dedupe_key}",
        )


def care_home_reinstated(home, *, commissioner, lots: list[int], dedupe_key: str) -> None:
    for organisation in (commissioner, home.provider):
        emit(
            event=Type.CARE_HOME_REINSTATED,
            organisation=organisation,
            payload=care_home_payload(home, lots=lots),
            dedupe_key=f"care_home.reinstated:{dedupe_key}",
        )


def placement_funding_changed(placement, *, effective_from, shares) -> None:
    """To the commissioning body and the home's provider: each payer type's weekly share from the
    date, with the route; organisations are named, people (the person, a family member) are not."""
    payload = {
        **placement_payload(placement),
        "funding": {
            "effective_from": effective_from,
            "shares": [
                {
                    "payer_type": share.payer_type,
                    "payer_organisation_id": share.payer_organisation_id,
                    "route": share.route,
                    "weekly_amount": share.weekly_amount,
                }
                for share in shares
            ],
        },
    }
    key = ";".join(f"{s.payer_type}:{s.payer_organisation_id}:{s.route}:{s.weekly_amount}" for s in shares)
    organisations = [placement.commissioner]
    if placement.care_home_id:
        organisations.append(placement.care_home.provider)
    for organisation in organisations:
        emit(
            event=Type.PLACEMENT_FUNDING_CHANGED,
            organisation=organisation,
            payload=payload,
            dedupe_key=f"placement.funding_changed:{placement.pk}:{effective_from}:{key}"[:200],
        )
