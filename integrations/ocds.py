"""Open Contracting Data Standard (OCDS 1.1) releases for tenders, awards and contracts.

Each tender is one release of the placement request's contracting process (a request that
is tendered again keeps its ocid). Published data never names the person: the case
reference, the needs summary and whoever pays a top-up stay out. Fields from OCDS
extensions (lots, techniques) are added as additional properties; the core release
schema allows them.
"""

from datetime import date, datetime, time
from decimal import Decimal

from django.conf import settings
from django.db.models import Count, F, Q
from django.db.models.functions import Coalesce, Greatest
from django.utils import timezone

from bidding.models import Tender
from fairness.selectors import regime_terms_for

OCDS_VERSION = "1.1"
CURRENCY = "GBP"
# CPV: "Social work services with accommodation" (residential care).
CPV_CARE_HOMES = {"scheme": "CPV", "id": "85311000", "description": "Social work services with accommodation"}

TENDER_STATUS = {
    Tender.Status.OPEN: "active",
    Tender.Status.CLOSED: "active",
    Tender.Status.EVALUATED: "active",
    Tender.Status.AWARDED: "complete",
    Tender.Status.NO_BIDS: "unsuccessful",
    Tender.Status.CANCELLED: "cancelled",
}


def tenders_for_publication(*, released_from: datetime | None = None, released_to: datetime | None = None):
    """Tenders with the time of their latest published change, in a stable order."""
    tenders = (
        Tender.objects.select_related(
            "request__commissioner",
            "request__lot",
            "request__placement",
            "award__bid__provider",
            "award__bid__care_home",
            "request__commissioner__market_settings",
        )
        .annotate(
            bid_count=Count("bids", filter=Q(bids__status="submitted")),
            release_date=Greatest(
                F("opened_at"),
                Coalesce(F("closed_at"), F("opened_at")),
                Coalesce(F("evaluated_at"), F("opened_at")),
                Coalesce(F("award__awarded_at"), F("opened_at")),
                Coalesce(F("request__placement__created_at"), F("opened_at")),
            ),
        )
        .order_by("id")
    )
    if released_from is not None:
        tenders = tenders.filter(release_date__gte=released_from)
    if released_to is not None:
        tenders = tenders.filter(release_date__lt=released_to)
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


def _party(organisation, roles: list[str]) -> dict:
    return {"id": f"org-{organisation.pk}", "name": organisation.name, "roles": roles}


def _lot_id(lot) -> str:
    return f"lot-{lot.number}"


def _tags(tender: Tender, placement) -> list[str]:
    if tender.status == Tender.Status.CANCELLED:
        return ["tenderCancellation"]
    if tender.status == Tender.Status.AWARDED:
        return ["award", "contract"] if placement else ["award"]
    if tender.status == Tender.Status.OPEN:
        return ["tender"]
    return ["tenderUpdate"]


def _contract_status(placement) -> str:
    today = timezone.localdate()
    if placement.end_date and placement.end_date < today:
        return "terminated"
    return "pending" if placement.start_date > today else "active"


def release_for(tender: Tender) -> dict:
    request = tender.request
    lot = request.lot
    buyer = request.commissioner
    award = getattr(tender, "award", None) if tender.status == Tender.Status.AWARDED else None
    placement = getattr(request, "placement", None) if award else None
    parties = [_party(buyer, ["buyer", "procuringEntity"])]
    tender_section = {
        "id": f"tender-{tender.pk}",
        "title": f"Care home placement: {lot.name}",
        "description": f"Call-off for one placement in lot {lot.number} ({lot.name}).",
        "status": TENDER_STATUS[tender.status],
        "procuringEntity": {"id": parties[0]["id"], "name": buyer.name},
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
        "lots": [{"id": _lot_id(lot), "title": lot.name, "status": TENDER_STATUS[tender.status]}],
        "techniques": {"hasFrameworkAgreement": False, "hasDynamicPurchasingSystem": True},
    }
    if tender.closed_at is not None:
        tender_section["numberOfTenderers"] = tender.bid_count
    release = {
        "ocid": ocid_for(tender),
        "id": f"tender-{tender.pk}-{tender.status}" + ("-contract" if placement else ""),
        "date": _time(tender.release_date),
        "tag": _tags(tender, placement),
        "initiationType": "tender",
        "language": "en",
        "buyer": {"id": parties[0]["id"], "name": buyer.name},
        "tender": tender_section,
    }
    if award is not None:
        bid = award.bid
        supplier = _party(bid.provider, ["supplier", "tenderer"])
        parties.append(supplier)
        award_id = f"award-{award.pk}"
        release["awards"] = [
            {
                "id": award_id,
                "title": f"Placement at {bid.care_home.name}",
                "description": "Value is the gross weekly fee.",
                "status": "active",
                "date": _time(award.awarded_at),
                "value": _money(bid.weekly_fee),
                "suppliers": [{"id": supplier["id"], "name": supplier["name"]}],
                "relatedLots": [_lot_id(lot)],
            }
        ]
        if placement is not None:
            release["contracts"] = [
                {
                    "id": f"contract-{placement.pk}",
                    "awardID": award_id,
                    "title": f"Placement at {bid.care_home.name}",
                    "description": "Value is the gross weekly fee.",
                    "status": _contract_status(placement),
                    "period": {
                        key: value
                        for key, value in (
                            ("startDate", _time(placement.start_date)),
                            ("endDate", _time(placement.end_date)),
                        )
                        if value
                    },
                    "value": _money(placement.weekly_fee),
                    "dateSigned": _time(placement.created_at),
                }
            ]
    release["parties"] = parties
    return release


def release_package(*, releases: list[dict], uri: str, next_uri: str = "") -> dict:
    package = {
        "uri": uri,
        "version": OCDS_VERSION,
        "publishedDate": timezone.now().isoformat(),
        "publisher": {"name": settings.OCDS_PUBLISHER_NAME},
        "license": settings.OCDS_LICENSE,
        "publicationPolicy": f"{settings.SITE_URL.rstrip('/')}/api/v1/docs/",
        "releases": releases,
    }
    if next_uri:
        package["links"] = {"next": next_uri}
    return package
