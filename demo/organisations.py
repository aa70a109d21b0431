"""Demo data: one council, its brokers and commissioner, providers with about 40 care homes.

Deterministic (a fixed random seed) and idempotent: running it again finds what it made.
"""

import random
from dataclasses import dataclass
from datetime import date, timedelta

from django.db import transaction

from lots.models import Lot
from organisations.models import Organisation, Role, User
from organisations.services import organisation_create, user_create
from providers.models import Admission, CareHome, Specialism
from providers.services import care_home_suspend_for_rating
from quality.models import Rating, RatingValue

DEMO_PASSWORD = "demo-password-2026"
COUNCIL_SLUG = "staffordshire"


@dataclass(frozen=True)
class Place:
    town: str
    postcode_area: str
    local_authority: str
    region: str
    latitude: float
    longitude: float


PLACES = [
    Place("Stafford", "ST16", "Staffordshire", "West Midlands", 52.8065, -2.1166),
    Place("Stone", "ST15", "Staffordshire", "West Midlands", 52.9025, -2.1470),
    Place("Leek", "ST13", "Staffordshire", "West Midlands", 53.1052, -2.0231),
    Place("Cannock", "WS11", "Staffordshire", "West Midlands", 52.6901, -2.0308),
    Place("Rugeley", "WS15", "Staffordshire", "West Midlands", 52.7597, -1.9364),
    Place("Lichfield", "WS13", "Staffordshire", "West Midlands", 52.6835, -1.8262),
    Place("Tamworth", "B79", "Staffordshire", "West Midlands", 52.6338, -1.6953),
    Place("Burton upon Trent", "DE14", "Staffordshire", "West Midlands", 52.8019, -1.6367),
    Place("Uttoxeter", "ST14", "Staffordshire", "West Midlands", 52.8984, -1.8652),
    Place("Newcastle-under-Lyme", "ST5", "Staffordshire", "West Midlands", 53.0109, -2.2278),
    Place("Kidsgrove", "ST7", "Staffordshire", "West Midlands", 53.0867, -2.2378),
    Place("Stoke-on-Trent", "ST4", "Stoke-on-Trent", "West Midlands", 52.9990, -2.1830),
    Place("Wolverhampton", "WV6", "Wolverhampton", "West Midlands", 52.5900, -2.1600),
    Place("Derby", "DE22", "Derby", "East Midlands", 52.9220, -1.4760),
]

PROVIDERS = [
    ("Trentside Care Group Ltd", "trentside-care", "1-101634521"),
    ("Moorlands Nursing Homes Ltd", "moorlands-nursing", "1-102645398"),
    ("Beacon Specialist Care LLP", "beacon-specialist", "1-103398745"),
    ("Cannock Chase Care Homes Ltd", "cannock-chase-care", "1-104587231"),
    ("Heartlands Dementia Care Ltd", "heartlands-dementia", "1-105219864"),
    ("Willow Tree Healthcare Ltd", "willow-tree-healthcare", "1-106774310"),
]

HOME_NAMES = [
    "Brook House",
    "Meadowbank",
    "The Limes",
    "Oakfield Lodge",
    "Rosewood Court",
    "Hillcrest",
    "The Beeches",
    "Elmhurst",
    "Sandon Manor",
    "Church View",
    "Highfield House",
    "The Cedars",
    "Fernlea",
    "Orchard House",
    "Riverside View",
    "Woodlands",
    "Ashgrove",
    "Chase View",
    "Holly Bank",
    "Park Hall",
    "Springfield",
    "The Hollies",
    "Beechcroft",
    "Mill House",
    "Greenacres",
    "Lime Tree Court",
    "Abbey Lodge",
    "Westfield",
    "Kingfisher Court",
    "Sycamore House",
    "Ivy Lodge",
    "Maple Grange",
    "Heath House",
    "Rowan Court",
    "Laurel Bank",
    "Cherry Trees",
    "Foxhollow",
    "Priory Court",
    "Willowmead",
    "Bridge House",
]

# Home profiles: (residential, nursing, specialism codes, the lots such a home serves)
PROFILES = [
    (True, False, ["older-people"], [1]),
    (True, False, ["older-people", "dementia"], [1, 2]),
    (False, True, ["older-people"], [6]),
    (False, True, ["older-people", "dementia"], [6, 7]),
    (True, True, ["older-people", "dementia"], [1, 2, 6, 7]),
    (True, False, ["learning-disabilities", "autism", "younger-adults"], [3]),
    (True, False, ["physical-disabilities", "sensory-impairments", "younger-adults"], [4]),
    (True, False, ["mental-health", "younger-adults"], [5]),
    (False, True, ["learning-disabilities", "autism", "younger-adults"], [8]),
    (False, True, ["physical-disabilities", "sensory-impairments", "younger-adults"], [9]),
    (False, True, ["mental-health", "mental-health-act", "younger-adults"], [10]),
]

RATING_MIX = [
    (RatingValue.OUTSTANDING, 12),
    (RatingValue.GOOD, 62),
    (RatingValue.REQUIRES_IMPROVEMENT, 18),
    (RatingValue.INADEQUATE, 4),
    (RatingValue.NOT_RATED, 4),
]

INWARD_LETTERS = "ABDEFGHJLNPQRSTUWXY"

STREETS = [
    "Station Road",
    "Church Lane",
    "Newcastle Road",
    "Lichfield Road",
    "Park Avenue",
    "Mill Street",
    "Uttoxeter Road",
    "Stone Road",
    "High Street",
    "Victoria Road",
]


@dataclass
class Login:
    role: str
    email: str
    organisation: str


def _pick_rating(rng: random.Random) -> str:
    values, weights = zip(*RATING_MIX, strict=True)
    return rng.choices(values, weights=weights)[0]


def _key_questions(rng: random.Random, overall: str) -> dict[str, str]:
    if overall == RatingValue.NOT_RATED:
        return dict.fromkeys(("safe", "effective", "caring", "responsive", "well_led"), RatingValue.NOT_RATED)
    ladder = [RatingValue.INADEQUATE, RatingValue.REQUIRES_IMPROVEMENT, RatingValue.GOOD, RatingValue.OUTSTANDING]
    centre = ladder.index(overall)
    result = {}
    for name in ("safe", "effective", "caring", "responsive", "well_led"):
        step = rng.choice([0, 0, 0, -1, 1])
        result[name] = ladder[min(max(centre + step, 0), len(ladder) - 1)]
    if overall == RatingValue.INADEQUATE:
        result["safe"] = RatingValue.INADEQUATE
    return result


def _user(organisation, role, email, name, logins) -> None:
    if not User.objects.filter(email=email).exists():
        user_create(organisation=organisation, role=role, email=email, password=DEMO_PASSWORD, full_name=name)
    logins.append(Login(role=role, email=email, organisation=organisation.name))


@transaction.atomic
def seed_organisations(stdout=None) -> list[Login]:
    """Council, providers, homes with ratings and admissions, and one login per role."""
    rng = random.Random(2024)
    logins: list[Login] = []
    council = Organisation.objects.filter(slug=COUNCIL_SLUG).first() or organisation_create(
        kind=Organisation.Kind.COUNCIL,
        name="Staffordshire County Council",
        slug=COUNCIL_SLUG,
        local_authority="Staffordshire",
    )
    _user(council, Role.BROKER, "broker@staffordshire.example", "Bola Broker", logins)
    _user(council, Role.COMMISSIONER, "commissioner@staffordshire.example", "Cara Commissioner", logins)

    specialisms = {s.code: s for s in Specialism.objects.all()}
    lots = {lot.number: lot for lot in Lot.objects.all()}
    providers = []
    for name, slug, cqc_id in PROVIDERS:
        provider = Organisation.objects.filter(slug=slug).first() or organisation_create(
            kind=Organisation.Kind.PROVIDER, name=name, slug=slug, cqc_provider_id=cqc_id
        )
        providers.append(provider)
        _user(provider, Role.PROVIDER, f"manager@{slug}.example", f"{name.split()[0]} Manager", logins)

    today = date.today()
    for index, home_name in enumerate(HOME_NAMES):
        provider = providers[index % len(providers)]
        place = PLACES[index % len(PLACES)]
        residential, nursing, codes, lot_numbers = PROFILES[index % len(PROFILES)]
        location_id = f"1-{5000000000 + index * 7919}"
        if CareHome.objects.filter(cqc_location_id=location_id).exists():
            continue
        home = CareHome.objects.create(
            provider=provider,
            cqc_location_id=location_id,
            name=home_name,
            address_line_1=f"{rng.randint(1, 180)} {rng.choice(STREETS)}",
            town=place.town,
            postcode=f"{place.postcode_area} {rng.randint(1, 9)}{''.join(rng.sample(INWARD_LETTERS, 2))}",
            local_authority=place.local_authority,
            region=place.region,
            latitude=round(place.latitude + rng.uniform(-0.03, 0.03), 5),
            longitude=round(place.longitude + rng.uniform(-0.03, 0.03), 5),
            registered_beds=rng.choice([18, 24, 30, 36, 40, 48, 60, 72]),
            provides_residential=residential,
            provides_nursing=nursing,
        )
        home.specialisms.set([specialisms[code] for code in codes])
        overall = _pick_rating(rng)
        rating = Rating.objects.create(
            care_home=home,
            overall=overall,
            source=Rating.Source.CQC_DIRECTORY,
            report_date=None if overall == RatingValue.NOT_RATED else today - timedelta(days=rng.randint(60, 900)),
            **_key_questions(rng, overall),
        )
        home.current_rating = rating
        home.save(update_fields=["current_rating"])
        Admission.objects.bulk_create(
            Admission(commissioner=council, care_home=home, lot=lots[number], status=Admission.Status.ADMITTED)
            for number in lot_numbers
        )
        if overall == RatingValue.INADEQUATE:
            # Through the service, so the suspension has its date, its reason and its notices.
            care_home_suspend_for_rating(care_home=home, rating=rating)
        if stdout and (index + 1) % 10 == 0:
            stdout.write(f"  {index + 1} care homes")
    return logins
