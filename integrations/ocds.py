"""Open Contracting Data Standard (OCDS 1.1) releases for tenders, awards and contracts.

A placement request is one contracting process (one ocid; a request tendered again keeps it).
Each thing that happened to it is one release, built from the rows that record it, so a
release's id and content never change once it exists:

- `<ocid>-tender-<tender>`: the tender published;
- `<ocid>-tender-<tender>-closed`: the window closed (how many bids came, or none);
- `<ocid>-tender-<tender>-cancelled`: the request cancelled before award;
- `<ocid>-award-<award>`: the award, with the placement's contract pending;
- `<ocid>-contract-<placement>-signed`: the provider accepted the service agreement (`dateSigned`);
- `<ocid>-contract-<placement>-amendment-<fee period>`: a fee change or uplift;
- `<ocid>-contract-<placement>-terminated-<agreement>`: the placement's end recorded.

A placement is bought at a weekly fee for an open-ended stay, so the price is stated per week
in each award's and contract's item (`unit.name` "week", `unit.value` the fee), not as a total
value. Lots, techniques and bid statistics come from the OCDS extensions the package declares.
Published data never names the person: the case reference, the needs summary, notes and
whoever pays a top-up stay out.
"""

from datetime import date, datetime, time
from decimal import Decimal

from django.conf import settings
from django.db.models import CharField, Count, F, Max, OuterRef, Prefetch, Q, Subquery
from django.db.models.functions import Cast, Greatest
from django.utils import timezone

from bidding.models import Tender
from bidding.selectors import bid_amounts_public
from contracts.models import FeePeriod, ServiceAgreement
from core.models import AuditEvent
from fairness.selectors import regime_terms_for
from lots.selectors import dps_agreements_for, dps_agreements_with_end

OCDS_VERSION = "1.1"
CURRENCY = "GBP"
# CPV: "Social work services with accommodation" (residential care).
CPV_CARE_HOMES = {"scheme": "CPV", "id": "85311000", "description": "Social work services with accommodation"}
# The organisation identifier scheme of the Care Quality Commission's provider ids.
CQC_SCHEME = "GB-CQC"
EXTENSIONS = [
    "https://raw.githubusercontent.com/open-contracting-extensions/ocds_lots_extension/v1.1.5/extension.json",
    "https://raw.githubusercontent.com/open-contracting-extensions/ocds_techniques_extension/v1.1.5/extension.json",
    "https://raw.githubusercontent.com/open-contracting-extensions/ocds_bid_extension/v1.1.5/extension.json",
]

CANCELLED_VERB = "placements.request.cancelled"


def tenders_for_publication(*, released_from: datetime | None = None, released_to: datetime | None = None):
    """Tenders with at least one release in [released_from, released_to), with what their releases read.

    Each tender carries its latest release time (`release_date`) and its cancellation time; the
    placement's agreements and fee changes are prefetched, so building releases reads nothing more.
    """
    cancelled_at = AuditEvent.objects.filter(
        verb=CANCELLED_VERB,
        target_type="placements.placementrequest",
        target_id=Cast(OuterRef("request_id"), CharField()),
    ).values("created_at")[:1]
    placement = OuterRef("request__placement")
    agreement_changed_at = (
        ServiceAgreement.objects.filter(placement=placement)
        .values("placement")
        .annotate(latest=Greatest(Max("accepted_at"), Max("created_at")))
        .values("latest")
    )
    fee_changed_at = (
        FeePeriod.objects.filter(placement=placement)
        .exclude(reason=FeePeriod.Reason.INITIAL)
        .values("placement")
        .annotate(latest=Max("created_at"))
        .values("latest")
    )
    tenders = (
        Tender.objects.all()
        .select_related(
            "request__commissioner",
            "request__lot",
            "request__placement",
            "award__bid__provider",
            "award__bid__care_home",
            "request__commissioner__market_settings",
        )
        .prefetch_related(
            Prefetch(
                "request__placement__agreements",
                queryset=ServiceAgreement.objects.order_by("version"),
                to_attr="agreements_in_order",
            ),
            Prefetch(
                "request__commissioner__dps_agreements",
                queryset=dps_agreements_with_end().order_by("starts_on", "pk"),
                to_attr="dps_terms",
            ),
            Prefetch(
                "request__placement__fee_periods",
                queryset=FeePeriod.objects.exclude(reason=FeePeriod.Reason.INITIAL).order_by("effective_from"),
                to_attr="fee_changes",
            ),
        )
        .annotate(
            bid_count=Count("bids", filter=Q(bids__status="submitted"), distinct=True),
            cancelled_at=Subquery(cancelled_at),
            # PostgreSQL's GREATEST passes over nulls: steps not taken yet do not count.
            release_date=Greatest(
                F("opened_at"),
                F("closed_at"),
                F("award__awarded_at"),
                F("cancelled_at"),
                Subquery(agreement_changed_at),
                Subquery(fee_changed_at),
            ),
        )
        .order_by("id")
    )
    if released_from is not None:
        tenders = tenders.filter(release_date__gte=released_from)
    if released_to is not None:
        tenders = tenders.filter(opened_at__lt=released_to)
    return tenders


def ocid_for(tender: Tender) -> str:
    return f"{settings.OCDS_OCID_PREFIX}-placement-{tender.request_id}"


def _time(value: datetime | date | None) -> str | None:
    if value is None:
        return None
    if not isinstance(value, datetime):
        value = timezone.make_aware(datetime.combine(value, time.min))
    return value.isoformat()


def _money(amount: Decimal) -> dict:
    return {"amount": float(amount), "currency": CURRENCY}


def _party(organisation, roles: list[str], *, cqc_provider_id: str = "") -> dict:
    party = {"id": f"org-{organisation.pk}", "name": organisation.name, "roles": roles}
    registered = organisation.cqc_provider_id or cqc_provider_id
    if registered:
        party["identifier"] = {"scheme": CQC_SCHEME, "id": registered, "legalName": organisation.name}
    return party


def _lot_id(lot) -> str:
    return f"lot-{lot.number}"


def _weekly_item(lot, weekly_fee: Decimal) -> dict:
    """The placement as an item bought by the week: the fee is the price of one week."""
    return {
        "id": "1",
        "description": f"Care home placement, {lot.name}, charged weekly",
        "classification": CPV_CARE_HOMES,
        "unit": {"name": "week", "value": _money(weekly_fee)},
        "relatedLot": _lot_id(lot),
    }


def _period(start: date | None, end: date | None) -> dict:
    return {key: _time(value) for key, value in (("startDate", start), ("endDate", end)) if value}


def _release(tender: Tender, *, suffix: str, moment, tags: list[str], parties: list[dict]) -> dict:
    buyer = tender.request.commissioner
    return {
        "ocid": ocid_for(tender),
        "id": f"{ocid_for(tender)}-{suffix}",
        "date": _time(moment),
        "tag": tags,
        "initiationType": "tender",
        "language": "en",
        "buyer": {"id": f"org-{buyer.pk}", "name": buyer.name},
        "parties": parties,
    }


def _buyer_party(tender: Tender) -> dict:
    return _party(tender.request.commissioner, ["buyer", "procuringEntity"])


def _tender_state(tender: Tender, status: str) -> dict:
    return {
        "id": f"tender-{tender.pk}",
        "status": status,
        "lots": [{"id": _lot_id(tender.request.lot), "status": status}],
    }


def release_for(tender: Tender) -> dict:
    """The tender as published: what is bought, how and until when."""
    lot = tender.request.lot
    buyer = tender.request.commissioner
    release = _release(
        tender, suffix=f"tender-{tender.pk}", moment=tender.opened_at, tags=["tender"], parties=[_buyer_party(tender)]
    )
    release["tender"] = {
        "id": f"tender-{tender.pk}",
        "title": f"Care home placement: {lot.name}",
        "description": f"Call-off for one placement in lot {lot.number} ({lot.name}).",
        "status": "active",
        "procuringEntity": {"id": f"org-{buyer.pk}", "name": buyer.name},
        "items": [
            {
                "id": "1",
                "description": f"Care home placement, {lot.name}",
                "classification": CPV_CARE_HOMES,
                "quantity": 1,
                "relatedLot": _lot_id(lot),
            }
        ],
        "procurementMethod": "selective",
        "procurementMethodDetails": regime_terms_for(buyer)["procurement_method_details"],
        "mainProcurementCategory": "services",
        "awardCriteria": "ratedCriteria",
        "awardCriteriaDetails": f"Quality {tender.quality_weight}%, price {tender.price_weight}%",
        "submissionMethod": ["electronicSubmission"],
        "tenderPeriod": {"startDate": _time(tender.opened_at), "endDate": _time(tender.closes_at)},
        "lots": [{"id": _lot_id(lot), "title": lot.name, "status": "active"}],
        "techniques": {"hasFrameworkAgreement": False, "hasDynamicPurchasingSystem": True},
    }
    dps = _dps_of(tender)
    if dps is not None:
        # A call-off names the DPS it is made under, with the DPS's period (its term, extensions included).
        release["relatedProcesses"] = [
            {
                "id": f"dps-{dps.pk}",
                "relationship": ["framework"],
                "title": f"{dps.title} (DPS term {dps.starts_on.isoformat()} to {dps.current_ends_on.isoformat()})",
                "scheme": "ocid",
                "identifier": f"{settings.OCDS_OCID_PREFIX}-dps-{dps.pk}",
            }
        ]
    return release


def _dps_of(tender: Tender):
    """The body's DPS whose term held the day the tender opened, from the prefetched agreements."""
    on = timezone.localdate(tender.opened_at)
    terms = getattr(tender.request.commissioner, "dps_terms", None)
    if terms is None:
        terms = list(dps_agreements_for(commissioner=tender.request.commissioner))
    return next((dps for dps in terms if dps.starts_on <= on <= dps.current_ends_on), None)


def _closed_release(tender: Tender) -> dict:
    no_bids = tender.status == Tender.Status.NO_BIDS
    release = _release(
        tender,
        suffix=f"tender-{tender.pk}-closed",
        moment=tender.closed_at,
        tags=["tenderUpdate"],
        parties=[_buyer_party(tender)],
    )
    release["tender"] = _tender_state(tender, "unsuccessful" if no_bids else "active")
    # Counted once a close happened, and only as far as the sealed-bid rule lets the public read.
    if tender.closed_at is not None and bid_amounts_public(tender):
        release["tender"]["numberOfTenderers"] = tender.bid_count
        release["bids"] = {
            "statistics": [
                {
                    "id": "bids",
                    "measure": "bids",
                    "value": tender.bid_count,
                    "date": _time(tender.closed_at),
                    "relatedLot": _lot_id(tender.request.lot),
                }
            ]
        }
    return release


def _cancelled_release(tender: Tender) -> dict:
    release = _release(
        tender,
        suffix=f"tender-{tender.pk}-cancelled",
        moment=tender.cancelled_at or tender.opened_at,
        tags=["tenderCancellation"],
        parties=[_buyer_party(tender)],
    )
    release["tender"] = _tender_state(tender, "cancelled")
    return release


def _contract_id(placement) -> str:
    return f"contract-{placement.pk}"


def _award_release(tender: Tender, award, placement) -> dict:
    bid = award.bid
    lot = tender.request.lot
    supplier = _party(bid.provider, ["supplier", "tenderer"], cqc_provider_id=bid.care_home.cqc_provider_id)
    release = _release(
        tender,
        suffix=f"award-{award.pk}",
        moment=award.awarded_at,
        tags=["award", "contract"] if placement else ["award"],
        parties=[_buyer_party(tender), supplier],
    )
    release["tender"] = _tender_state(tender, "complete")
    award_id = f"award-{award.pk}"
    release["awards"] = [
        {
            "id": award_id,
            "title": f"Placement at {bid.care_home.name}",
            "status": "active",
            "date": _time(award.awarded_at),
            "suppliers": [{"id": supplier["id"], "name": supplier["name"]}],
            "items": [_weekly_item(lot, bid.weekly_fee)],
            "relatedLots": [_lot_id(lot)],
        }
    ]
    if placement is not None:
        release["awards"][0]["contractPeriod"] = _period(placement.start_date, None)
        release["contracts"] = [
            {
                "id": _contract_id(placement),
                "awardID": award_id,
                "title": f"Placement at {bid.care_home.name}",
                "status": "pending",
                "period": _period(placement.start_date, None),
                "items": [_weekly_item(lot, bid.weekly_fee)],
            }
        ]
    return release


def _contract_releases(tender: Tender, award, placement) -> list[dict]:
    """Signed when the provider first accepts its agreement; amended at each fee change; terminated at the end."""
    lot = tender.request.lot
    award_id = f"award-{award.pk}"
    supplier = _party(award.bid.provider, ["supplier", "tenderer"], cqc_provider_id=award.bid.care_home.cqc_provider_id)
    parties = [_buyer_party(tender), supplier]
    contract_id = _contract_id(placement)
    releases = []
    agreements = placement.agreements_in_order
    signed = next((agreement for agreement in agreements if agreement.accepted_at), None)
    if signed is not None:
        release = _release(
            tender,
            suffix=f"contract-{placement.pk}-signed",
            moment=signed.accepted_at,
            tags=["contractUpdate"],
            parties=parties,
        )
        release["contracts"] = [
            {
                "id": contract_id,
                "awardID": award_id,
                "status": "active",
                "dateSigned": _time(signed.accepted_at),
                "period": _period(signed.start_date, signed.end_date),
                "items": [_weekly_item(lot, signed.weekly_fee)],
            }
        ]
        releases.append(release)
    for period in placement.fee_changes:
        suffix = f"contract-{placement.pk}-amendment-{period.pk}"
        release = _release(tender, suffix=suffix, moment=period.created_at, tags=["contractAmendment"], parties=parties)
        release["contracts"] = [
            {
                "id": contract_id,
                "awardID": award_id,
                "items": [_weekly_item(lot, period.weekly_fee)],
                "amendments": [
                    {
                        "id": f"amendment-{period.pk}",
                        "date": _time(period.created_at),
                        "rationale": period.get_reason_display(),
                        "description": f"Weekly fee {period.weekly_fee:.2f} {CURRENCY} from {period.effective_from}.",
                        "releaseID": release["id"],
                    }
                ],
            }
        ]
        releases.append(release)
    for agreement in agreements:
        if agreement.reason != ServiceAgreement.Reason.ENDED or agreement.end_date is None:
            continue
        suffix = f"contract-{placement.pk}-terminated-{agreement.pk}"
        release = _release(
            tender, suffix=suffix, moment=agreement.created_at, tags=["contractTermination"], parties=parties
        )
        release["contracts"] = [
            {
                "id": contract_id,
                "awardID": award_id,
                "status": "terminated",
                "period": _period(agreement.start_date, agreement.end_date),
            }
        ]
        releases.append(release)
    return releases


def releases_for(tender: Tender) -> list[dict]:
    """Every release of the tender, oldest first; a tender from `tenders_for_publication` reads no more rows."""
    releases = [release_for(tender)]
    if tender.closed_at is not None:
        releases.append(_closed_release(tender))
    if tender.status == Tender.Status.CANCELLED:
        releases.append(_cancelled_release(tender))
    award = getattr(tender, "award", None) if tender.status == Tender.Status.AWARDED else None
    if award is not None:
        placement = getattr(tender.request, "placement", None)
        releases.append(_award_release(tender, award, placement))
        if placement is not None:
            releases.extend(_contract_releases(tender, award, placement))
    return sorted(releases, key=lambda release: release["date"])


def releases_in_window(tender: Tender, *, released_from: datetime | None, released_to: datetime | None) -> list[dict]:
    """The tender's releases dated in [released_from, released_to)."""
    return [
        release
        for release in releases_for(tender)
        if (released_from is None or datetime.fromisoformat(release["date"]) >= released_from)
        and (released_to is None or datetime.fromisoformat(release["date"]) < released_to)
    ]


def release_package(*, releases: list[dict], uri: str, next_uri: str = "", prev_uri: str = "") -> dict:
    package = {
        "uri": uri,
        "version": OCDS_VERSION,
        "extensions": EXTENSIONS,
        "publishedDate": timezone.now().isoformat(),
        "publisher": {"name": settings.OCDS_PUBLISHER_NAME},
        "license": settings.OCDS_LICENSE,
        "publicationPolicy": f"{settings.SITE_URL.rstrip('/')}/api/v1/docs/",
        "releases": releases,
    }
    links = {name: link for name, link in (("next", next_uri), ("prev", prev_uri)) if link}
    if links:
        package["links"] = links
    return package
