"""Postcodes as places: reading what people type, finding its point in the directory, and giving
care homes that have a postcode but no coordinates their point.

The directory itself is loaded by `import_postcodes` (see `postcode_import`)."""

import re
from dataclasses import dataclass

from django.db import transaction
from django.db.models import Exists, OuterRef, Subquery, Value
from django.db.models.functions import Replace, Upper

from core.audit import audit_record
from core.errors import ApplicationError

from .models import CareHome, Postcode

# Outward code (area, district, optional sub-district) then inward code (sector, unit), as Royal
# Mail writes them; the spaces and case people use do not matter.
POSTCODE_PATTERN = re.compile(r"^([A-Z]{1,2}[0-9][A-Z0-9]?)([0-9][A-Z]{2})$")
EXAMPLE = "ST16 2LL"
MALFORMED = f"Enter a real postcode, like {EXAMPLE}"


@dataclass(frozen=True)
class Place:
    postcode: str
    latitude: float
    longitude: float


def postcode_compact(value: str) -> str:
    """Upper case with every space taken out: how the directory is keyed."""
    return re.sub(r"\s+", "", value or "").upper()


def postcode_normalise(value: str) -> str | None:
    """The postcode written as Royal Mail does ("ST16 2LL"), or None when it cannot be one."""
    match = POSTCODE_PATTERN.match(postcode_compact(value))
    return f"{match.group(1)} {match.group(2)}" if match else None


def postcode_unknown_message(postcode: str) -> str:
    return f"We could not find {postcode}: check it or enter the nearest postcode"


def postcode_locate(*, postcode: str, field: str = "postcode") -> Place:
    """The point a postcode stands for; a refusal names `field` when it is malformed or unknown.

    A postcode Royal Mail has since retired still has its point: people give old addresses too."""
    written = postcode_normalise(postcode)
    if written is None:
        raise ApplicationError(MALFORMED, code="postcode_malformed", fields={field: MALFORMED})
    found = Postcode.objects.filter(compact=postcode_compact(written)).values("latitude", "longitude").first()
    if found is None:
        message = postcode_unknown_message(written)
        raise ApplicationError(message, code="postcode_unknown", fields={field: message})
    return Place(postcode=written, latitude=found["latitude"], longitude=found["longitude"])


def postcode_point(postcode: str) -> tuple[float, float] | None:
    """The directory's point for a postcode, or None when it is malformed or not in the directory."""
    written = postcode_normalise(postcode)
    if written is None:
        return None
    return Postcode.objects.filter(compact=postcode_compact(written)).values_list("latitude", "longitude").first()


def _home_compact_postcode():
    return Replace(Upper("postcode"), Value(" "), Value(""))


@transaction.atomic
def care_homes_locate(*, homes=None, actor=None) -> int:
    """Give every home without coordinates the point of its postcode, where the directory has it.

    One UPDATE for the lot; homes whose postcode is not in the directory are left as they are.
    Returns how many homes were given a point."""
    homes = CareHome.objects.all() if homes is None else homes
    directory = Postcode.objects.filter(compact=OuterRef("compact_postcode"))
    located = (
        homes.filter(latitude__isnull=True)
        .annotate(compact_postcode=_home_compact_postcode())
        .filter(Exists(directory))
    )
    ids = list(located.values_list("pk", flat=True))
    if not ids:
        return 0
    point = Postcode.objects.filter(compact=Replace(Upper(OuterRef("postcode")), Value(" "), Value("")))
    count = CareHome.objects.filter(pk__in=ids).update(
        latitude=Subquery(point.values("latitude")[:1]), longitude=Subquery(point.values("longitude")[:1])
    )
    audit_record(
        actor=actor,
        verb="providers.care_homes.located",
        target=("providers.postcode", "directory"),
        detail={"care_homes": count},
    )
    return count
