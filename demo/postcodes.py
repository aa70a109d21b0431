"""Demo data: the postcode directory's entries for the demo's towns and care homes, so brokers can
request and search by postcode (a real deployment loads the whole directory with import_postcodes).

Each town has one postcode at its centre; each home's postcode stands for the home's own point."""

from django.db import transaction

from demo.organisations import PLACES
from providers.models import CareHome, Postcode
from providers.postcodes import postcode_compact, postcode_normalise

TOWN_POSTCODES = {
    "Stafford": "ST16 2LL",
    "Stone": "ST15 8AA",
    "Leek": "ST13 5AA",
    "Cannock": "WS11 1AA",
    "Rugeley": "WS15 2AA",
    "Lichfield": "WS13 6AA",
    "Tamworth": "B79 7AA",
    "Burton upon Trent": "DE14 1AA",
    "Uttoxeter": "ST14 8AA",
    "Newcastle-under-Lyme": "ST5 1AA",
    "Kidsgrove": "ST7 1AA",
    "Stoke-on-Trent": "ST4 1HH",
    "Wolverhampton": "WV6 0AA",
    "Derby": "DE22 1AA",
}


@transaction.atomic
def seed_postcodes(stdout=None) -> int:
    points: dict[str, tuple[str, float, float]] = {}
    homes = CareHome.objects.exclude(latitude=None).values_list("postcode", "latitude", "longitude")
    for postcode, latitude, longitude in homes:
        written = postcode_normalise(postcode)
        if written:
            points[postcode_compact(written)] = (written, latitude, longitude)
    # The towns' own postcodes win over a home's that happens to match.
    for place in PLACES:
        written = TOWN_POSTCODES[place.town]
        points[postcode_compact(written)] = (written, place.latitude, place.longitude)
    Postcode.objects.bulk_create(
        [
            Postcode(compact=compact, postcode=written, latitude=latitude, longitude=longitude)
            for compact, (written, latitude, longitude) in points.items()
        ],
        update_conflicts=True,
        unique_fields=["compact"],
        update_fields=["postcode", "latitude", "longitude"],
    )
    if stdout:
        stdout.write(f"  {len(points)} postcodes, e.g. {TOWN_POSTCODES['Stafford']} for Stafford")
    return len(points)
