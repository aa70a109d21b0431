"""A realistic national data set for load tests and benchmarks, written with COPY and bulk_create.

Commissioning bodies spread over the English regions, care homes around them with a CQC rating
mix, admissions on the lots each home's setting allows, vacancies, block contracts, tenders
closed, evaluated or awarded with their invitations and sealed bids, and placements from awards
and from imported history with seasonal sourcing volumes (more in winter).
"""

import math
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal

from django.contrib.auth.hashers import make_password
from django.db import connection, transaction
from django.db.models import Max
from django.utils import timezone

from bidding.models import Award, Bid, Invitation, Tender
from blockbeds.models import BlockBed, BlockContract, BlockContractRate
from core.bulk import copy_rows
from lots.models import Lot, LotRules
from lots.reference import DEFAULT_GUIDE_FEES
from organisations.models import Organisation, Role, User
from placements.models import Placement, PlacementRequest
from providers.models import Admission, CareHome, Specialism, Vacancy
from quality.models import KEY_QUESTIONS, Rating, RatingValue

from .bulk import reserve_ids

# Region name, centre latitude and longitude, and how far homes spread from a council's centre.
REGIONS = [
    ("North East", 54.90, -1.60),
    ("North West", 53.60, -2.60),
    ("Yorkshire and The Humber", 53.80, -1.30),
    ("East Midlands", 52.90, -1.00),
    ("West Midlands", 52.50, -2.00),
    ("East of England", 52.30, 0.50),
    ("London", 51.51, -0.12),
    ("South East", 51.20, -0.60),
    ("South West", 50.90, -3.30),
]
RATING_MIX = [
    (RatingValue.OUTSTANDING, 5),
    (RatingValue.GOOD, 70),
    (RatingValue.REQUIRES_IMPROVEMENT, 17),
    (RatingValue.INADEQUATE, 2),
    (RatingValue.NOT_RATED, 6),
]
RATING_SCORES = {
    RatingValue.OUTSTANDING: 100,
    RatingValue.GOOD: 75,
    RatingValue.REQUIRES_IMPROVEMENT: 40,
    RatingValue.INADEQUATE: 0,
}
# Tenders by outcome; awarded ones become placements.
TENDER_MIX = [
    (Tender.Status.AWARDED, 70),
    (Tender.Status.EVALUATED, 15),
    (Tender.Status.CLOSED, 8),
    (Tender.Status.NO_BIDS, 7),
]
# Lots by how often placements are sought: older people's residential and nursing most.
LOT_MIX = [1, 1, 1, 2, 2, 6, 6, 7, 3, 4, 5, 8, 9, 10]
HISTORY_MONTHS = 36
PROGRESS_EVERY = 100_000
SERVICE_PASSWORD = make_password(None)
PENNY = Decimal("0.01")


@dataclass(frozen=True)
class Sizes:
    homes: int
    placements: int
    tenders: int
    bids_per_tender: int

    @classmethod
    def scaled(cls, *, homes: int, placements: int, tenders: int, bids_per_tender: int, scale: float) -> "Sizes":
        return cls(
            homes=max(12, round(homes * scale)),
            placements=max(0, round(placements * scale)),
            tenders=max(0, round(tenders * scale)),
            bids_per_tender=bids_per_tender,
        )

    @property
    def councils(self) -> int:
        return max(2, min(150, round(self.homes / 100)))

    @property
    def providers(self) -> int:
        return max(2, self.homes // 5)


@dataclass
class Council:
    pk: int
    slug: str
    local_authority: str
    latitude: float
    longitude: float
    broker_id: int = 0
    commissioner_id: int = 0
    homes: list[int] = field(default_factory=list)
    homes_by_lot: dict[int, list[int]] = field(default_factory=dict)


@dataclass
class Home:
    pk: int
    provider_id: int
    council: int
    local_authority: str
    nursing: bool
    residential: bool
    rating: str
    latitude: float
    longitude: float


@dataclass
class LoadReport:
    counts: dict[str, int] = field(default_factory=dict)


class LoadGenerator:
    def __init__(self, sizes: Sizes, *, seed: int = 1, progress: Callable[[str], None] = lambda message: None):
        self.sizes = sizes
        self.random = random.Random(seed)
        self.seed = seed
        self.progress = progress
        self.now = timezone.now().replace(microsecond=0)
        self.today = timezone.localdate()
        self.report = LoadReport()
        self.lots = {lot.number: lot for lot in Lot.objects.all()}
        if len(self.lots) != 10:
            raise ValueError("The ten lots are missing: run the migrations first.")
        self.specialisms = list(Specialism.objects.values_list("pk", flat=True))
        self.councils: list[Council] = []
        self.homes: list[Home] = []
        self.provider_users: dict[int, int] = {}
        self.month_weights = self._month_weights()

    # -- helpers ---------------------------------------------------------------------------

    def _count(self, name: str, value: int) -> None:
        self.report.counts[name] = self.report.counts.get(name, 0) + value
        self.progress(f"  {name}: {value:,}")

    def _pick(self, mix):
        values, weights = zip(*mix, strict=True)
        return self.random.choices(values, weights)[0]

    def _month_weights(self) -> list[tuple[date, float]]:
        """The last HISTORY_MONTHS months, weighted so winter sources about 40% more than summer."""
        months = []
        year, month = self.today.year, self.today.month
        for _ in range(HISTORY_MONTHS):
            months.append((date(year, month, 1), 1.0 + 0.2 * math.cos(2 * math.pi * (month - 1) / 12)))
            year, month = (year - 1, 12) if month == 1 else (year, month - 1)
        return months

    def _moment(self) -> datetime:
        """A request time in the history window, seasonal, during working hours."""
        months, weights = zip(*self.month_weights, strict=True)
        first = self.random.choices(months, weights)[0]
        last_day = (first.replace(day=28) + timedelta(days=4)).replace(day=1) - timedelta(days=1)
        day = first + timedelta(days=self.random.randrange(last_day.day))
        moment = timezone.make_aware(datetime(day.year, day.month, day.day, 8 + self.random.randrange(9)))
        moment += timedelta(minutes=self.random.randrange(60))
        return min(moment, self.now - timedelta(days=8))

    def _urgency(self, requested_at: datetime) -> tuple:
        """A request's urgency and discharge details: about a quarter hospital discharges (ready up to
        six hours before the request, 24-hour target, half of them to assess), a tenth urgent ones
        from the community (48 hours), the rest planned (target in days)."""
        draw = self.random.random()
        if draw < 0.25:
            ready = requested_at - timedelta(minutes=self.random.randrange(360))
            pathway = "pathway_3_assessment" if self.random.random() < 0.5 else "long_term"
            return "hospital_discharge", self.hospital_id, ready, pathway, ready + timedelta(hours=24)
        if draw < 0.35:
            return "urgent_community", None, None, "", requested_at + timedelta(hours=48)
        return "planned", None, None, "", None

    def _fee(self, lot_number: int, spread: float = 0.15) -> Decimal:
        guide = DEFAULT_GUIDE_FEES[lot_number]
        return (guide * Decimal(str(round(self.random.uniform(1 - spread, 1 + spread), 3)))).quantize(PENNY)

    # -- the steps -------------------------------------------------------------------------

    def run(self) -> LoadReport:
        sizes = self.sizes
        self.progress(
            f"Generating {sizes.homes:,} homes, {sizes.placements:,} placements, {sizes.tenders:,} tenders "
            f"with up to {sizes.bids_per_tender} bids each (seed {self.seed})"
        )
        self._organisations()
        with transaction.atomic():
            self._homes()
        self._admissions()
        self._vacancies()
        self._block_contracts()
        awarded = self._tenders()
        self._placements(awarded)
        self.progress("Updating planner statistics")
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
        return self.report

    def _organisations(self) -> None:
        sizes = self.sizes
        tag = f"load{self.seed}-{(Organisation.objects.aggregate(highest=Max('id'))['highest'] or 0) + 1}"
        councils = []
        for index in range(sizes.councils):
            region, latitude, longitude = REGIONS[index % len(REGIONS)]
            area = f"{region} area {index // len(REGIONS) + 1}"
            councils.append(
                Organisation(
                    kind=Organisation.Kind.COUNCIL,
                    name=f"{area} council",
                    slug=f"{tag}-council-{index}",
                    local_authority=area,
                )
            )
        providers = [
            Organisation(
                kind=Organisation.Kind.PROVIDER,
                name=f"Care provider {tag}-{index}",
                slug=f"{tag}-provider-{index}",
                cqc_provider_id=f"1-LP{tag.split('-')[-1]}-{index}",
            )
            for index in range(sizes.providers)
        ]
        # One hospital trust site referring to every council: enough for hospital discharges everywhere.
        hospital = Organisation(kind=Organisation.Kind.HOSPITAL, name=f"Hospital {tag}", slug=f"{tag}-hospital")
        Organisation.objects.bulk_create([*councils, *providers, hospital], batch_size=2000)
        hospital.refers_to.set(councils)
        self.hospital_id = hospital.pk
        self._count("organisations", len(councils) + len(providers) + 1)
        users = []
        for org in councils:
            for role in (Role.BROKER, Role.COMMISSIONER):
                users.append(
                    User(email=f"{role}@{org.slug}.example.org", organisation=org, role=role, password=SERVICE_PASSWORD)
                )
        for org in providers:
            users.append(
                User(
                    email=f"provider@{org.slug}.example.org",
                    organisation=org,
                    role=Role.PROVIDER,
                    password=SERVICE_PASSWORD,
                )
            )
        User.objects.bulk_create(users, batch_size=2000)
        self._count("users", len(users))
        by_org = {(user.organisation_id, user.role): user.pk for user in users}
        for index, org in enumerate(councils):
            region, latitude, longitude = REGIONS[index % len(REGIONS)]
            council = Council(
                pk=org.pk,
                slug=org.slug,
                local_authority=org.local_authority,
                latitude=latitude + self.random.uniform(-0.6, 0.6),
                longitude=longitude + self.random.uniform(-0.8, 0.8),
                broker_id=by_org[(org.pk, Role.BROKER)],
                commissioner_id=by_org[(org.pk, Role.COMMISSIONER)],
            )
            self.councils.append(council)
        self.provider_ids = [org.pk for org in providers]
        self.provider_users = {org.pk: by_org[(org.pk, Role.PROVIDER)] for org in providers}
        rules = [
            LotRules(
                commissioner_id=council.pk,
                lot=lot,
                target_days=self.random.choice([3, 5, 5, 7, 10]),
                quality_weight=60,
                price_weight=40,
                guide_weekly_fee=DEFAULT_GUIDE_FEES[number],
            )
            for council in self.councils
            for number, lot in self.lots.items()
        ]
        LotRules.objects.bulk_create(rules, batch_size=2000)
        self.target_days = {(rule.commissioner_id, rule.lot.number): rule.target_days for rule in rules}
        self._count("lot rules", len(rules))

    def _homes(self) -> None:
        sizes = self.sizes
        first_home = reserve_ids(CareHome, sizes.homes)
        first_rating = reserve_ids(Rating, sizes.homes)
        for index in range(sizes.homes):
            council_index = index % len(self.councils)
            council = self.councils[council_index]
            kind = self.random.random()
            self.homes.append(
                Home(
                    pk=first_home + index,
                    provider_id=self.random.choice(self.provider_ids),
                    council=council_index,
                    local_authority=council.local_authority,
                    nursing=kind >= 0.55,
                    residential=kind < 0.80,
                    rating=self._pick(RATING_MIX),
                    latitude=round(council.latitude + self.random.gauss(0, 0.15), 6),
                    longitude=round(council.longitude + self.random.gauss(0, 0.22), 6),
                )
            )
            council.homes.append(first_home + index)
        region_of = {council.local_authority: REGIONS[i % len(REGIONS)][0] for i, council in enumerate(self.councils)}
        home_rows = (
            (
                home.pk,
                home.provider_id,
                f"1-LD{self.seed % 100}-{home.pk}",
                f"{self.random.choice(['Oak', 'Elm', 'Willow', 'Beech', 'Cedar', 'Rowan'])} "
                f"{self.random.choice(['House', 'Lodge', 'Court', 'Manor', 'Grange'])} {home.pk}",
                f"{1 + home.pk % 200} High Street",
                f"{home.local_authority} town",
                f"ZZ{home.pk % 90 + 10} {home.pk % 9}AA",
                home.local_authority,
                region_of[home.local_authority],
                home.latitude,
                home.longitude,
                self.random.randint(12, 90),
                CareHome.RegistrationStatus.REGISTERED,
                home.residential,
                home.nursing,
                first_rating + i,
                self.now,
            )
            for i, home in enumerate(self.homes)
        )
        written = copy_rows(
            CareHome,
            [
                "id",
                "provider_id",
                "cqc_location_id",
                "name",
                "address_line_1",
                "town",
                "postcode",
                "local_authority",
                "region",
                "latitude",
                "longitude",
                "registered_beds",
                "registration_status",
                "provides_residential",
                "provides_nursing",
                "current_rating_id",
                "cqc_synced_at",
            ],
            home_rows,
        )
        self._count("care homes", written)
        rating_rows = (
            (
                first_rating + i,
                home.pk,
                home.rating,
                *([home.rating] * len(KEY_QUESTIONS)),
                self.today - timedelta(days=self.random.randrange(30, 1200)),
                Rating.Source.CQC_API,
            )
            for i, home in enumerate(self.homes)
        )
        written = copy_rows(
            Rating, ["id", "care_home_id", "overall", *KEY_QUESTIONS, "report_date", "source"], rating_rows
        )
        self._count("ratings", written)
        through = CareHome.specialisms.through

        def specialism_rows():
            for home in self.homes:
                for specialism in self.random.sample(self.specialisms, self.random.randint(1, 3)):
                    yield home.pk, specialism

        self._count("home specialisms", copy_rows(through, ["carehome_id", "specialism_id"], specialism_rows()))

    def _admissions(self) -> None:
        applied_at = self.now - timedelta(days=400)

        first = reserve_ids(Admission, len(self.homes) * 10)

        def rows():
            pk = first
            for home in self.homes:
                council = self.councils[home.council]
                for number, lot in self.lots.items():
                    offered = home.nursing if lot.setting == "nursing" else home.residential
                    chance = 0.9 if lot.client_group == "older_people" else 0.35
                    if not offered or self.random.random() > chance:
                        continue
                    if home.rating == RatingValue.INADEQUATE:
                        status = Admission.Status.SUSPENDED
                    else:
                        status = self._pick(
                            [
                                (Admission.Status.ADMITTED, 92),
                                (Admission.Status.APPLIED, 5),
                                (Admission.Status.REJECTED, 3),
                            ]
                        )
                    if status == Admission.Status.ADMITTED:
                        council.homes_by_lot.setdefault(number, []).append(home.pk)
                    decided = status != Admission.Status.APPLIED
                    yield (
                        pk,
                        council.pk,
                        home.pk,
                        lot.pk,
                        status,
                        Admission.Status.ADMITTED if status == Admission.Status.SUSPENDED else "",
                        True,
                        True,
                        self.provider_users[home.provider_id],
                        applied_at,
                        council.commissioner_id if decided else None,
                        applied_at + timedelta(days=7) if decided else None,
                    )
                    pk += 1

        written = copy_rows(
            Admission,
            [
                "id",
                "commissioner_id",
                "care_home_id",
                "lot_id",
                "status",
                "status_before_suspension",
                "insurance_confirmed",
                "terms_accepted",
                "applied_by_id",
                "applied_at",
                "decided_by_id",
                "decided_at",
            ],
            rows(),
        )
        self._count("admissions", written)

    def _vacancies(self) -> None:
        def rows():
            for home in self.homes:
                if self.random.random() > 0.35:
                    continue
                setting = Vacancy.Setting.NURSING if home.nursing else Vacancy.Setting.RESIDENTIAL
                yield (
                    home.pk,
                    setting,
                    self.random.randint(1, 4),
                    self.today + timedelta(days=self.random.randrange(14)),
                    self.now - timedelta(days=self.random.randrange(10)),
                    self.provider_users[home.provider_id],
                )

        written = copy_rows(
            Vacancy,
            ["care_home_id", "setting", "beds_free", "available_from", "confirmed_at", "confirmed_by_id"],
            rows(),
        )
        self._count("vacancies", written)

    def _block_contracts(self) -> None:
        contracts = []
        rates = []
        lots_for = []
        for council in self.councils:
            homes = council.homes_by_lot.get(1) or council.homes
            for number in range(max(1, len(council.homes) // 40)):
                home = self.homes[self.random.choice(homes) - self.homes[0].pk]
                start = self.today - timedelta(days=self.random.randrange(30, 700))
                # Drawn in this order so that a seed produces the same data as before rates had a history.
                contract_type = self._pick([("long_term", 6), ("respite", 2), ("winter_pressure", 2)])
                number_of_beds = self.random.randint(2, 10)
                rates.append(self._fee(6 if home.nursing else 1, 0.05))
                contracts.append(
                    BlockContract(
                        commissioner_id=council.pk,
                        provider_id=home.provider_id,
                        care_home_id=home.pk,
                        reference=f"BLK-{self.seed}-{council.pk}-{number}",
                        contract_type=contract_type,
                        number_of_beds=number_of_beds,
                        start_date=start,
                        end_date=start + timedelta(days=self.random.choice([365, 730, 1095])),
                        created_by_id=council.commissioner_id,
                    )
                )
                lots_for.append(self.lots[6 if home.nursing else 1].pk)
        BlockContract.objects.bulk_create(contracts, batch_size=2000)
        BlockContractRate.objects.bulk_create(
            [
                BlockContractRate(contract_id=c.pk, effective_from=c.start_date, weekly_rate=rate, reason="initial")
                for c, rate in zip(contracts, rates, strict=True)
            ],
            batch_size=2000,
        )
        through = BlockContract.lots.through
        through.objects.bulk_create(
            [through(blockcontract_id=c.pk, lot_id=lot) for c, lot in zip(contracts, lots_for, strict=True)]
        )
        beds = [
            BlockBed(contract_id=contract.pk, label=f"Bed {number + 1}", live_from=contract.start_date)
            for contract in contracts
            for number in range(contract.number_of_beds)
        ]
        BlockBed.objects.bulk_create(beds, batch_size=5000)
        self._count("block contracts", len(contracts))
        self._count("block beds", len(beds))

    def _tenders(self) -> list[tuple]:
        """Requests with one finished tender each, invitations and bids; returns awards as placement seeds."""
        sizes = self.sizes
        count = sizes.tenders
        waiting = max(1, count // 20) if count else 0
        first_request = reserve_ids(PlacementRequest, count + waiting)
        first_tender = reserve_ids(Tender, count)
        per_tender = sizes.bids_per_tender + 2
        first_invitation = reserve_ids(Invitation, count * per_tender)
        first_bid = reserve_ids(Bid, count * sizes.bids_per_tender)
        first_award = reserve_ids(Award, count)
        requests, tenders, invitations, bids, awards, awarded = [], [], [], [], [], []
        invitation_id, bid_id, award_id = first_invitation, first_bid, first_award
        for index in range(count + waiting):
            council = self.councils[index % len(self.councils)]
            number = self.random.choice(LOT_MIX)
            if number not in council.homes_by_lot and council.homes_by_lot:
                # Only homes admitted on the lot are invited; a small area may have none on this one.
                number = self.random.choice(sorted(council.homes_by_lot))
            pool = council.homes_by_lot.get(number) or council.homes
            requested_at = self._moment() if index < count else self.now - timedelta(hours=self.random.randrange(72))
            target_date = timezone.localdate(requested_at) + timedelta(days=self.target_days[(council.pk, number)])
            max_rate = DEFAULT_GUIDE_FEES[number]
            status = self._pick(TENDER_MIX) if index < count else None
            request_status = {
                Tender.Status.AWARDED: PlacementRequest.Status.PLACED,
                None: PlacementRequest.Status.NEW,
            }.get(status, PlacementRequest.Status.TENDERING)
            request_id = first_request + index
            opened_at = requested_at + timedelta(hours=1)
            closes_at = opened_at + timedelta(hours=self.random.choice([24, 48, 48, 72]))
            awarded_at = closes_at + timedelta(hours=self.random.randrange(1, 72))
            home = self.homes[self.random.choice(pool) - self.homes[0].pk]
            urgency, hospital_id, ready, pathway, target_at = self._urgency(requested_at)
            if target_at is not None:
                target_date = timezone.localdate(target_at)
            requests.append(
                (
                    request_id,
                    council.pk,
                    f"CASE-{self.seed}-{request_id}",
                    self.lots[number].pk,
                    "Needs help with personal care and mobility; mild memory loss.",
                    council.local_authority,
                    round(home.latitude + self.random.uniform(-0.05, 0.05), 6),
                    round(home.longitude + self.random.uniform(-0.05, 0.05), 6),
                    Decimal("25.0"),
                    timezone.localdate(requested_at) + timedelta(days=2),
                    max_rate,
                    request_status,
                    requested_at,
                    target_date,
                    awarded_at if status == Tender.Status.AWARDED else None,
                    council.broker_id,
                    urgency,
                    hospital_id,
                    ready,
                    pathway,
                    target_at,
                )
            )
            if status is None:
                continue
            tender_id = first_tender + index
            evaluated = status in (Tender.Status.EVALUATED, Tender.Status.AWARDED)
            tenders.append(
                (
                    tender_id,
                    request_id,
                    status,
                    opened_at,
                    closes_at,
                    closes_at,
                    closes_at + timedelta(minutes=1) if evaluated else None,
                    60,
                    40,
                    50,
                    max_rate,
                    council.broker_id,
                )
            )
            invited = self.random.sample(pool, min(per_tender, len(pool)))
            bidders = [] if status == Tender.Status.NO_BIDS else invited[: sizes.bids_per_tender]
            offers = []
            for care_home in invited:
                invitations.append((invitation_id, tender_id, care_home, Decimal("3.5"), opened_at))
                if care_home in bidders:
                    bidder = self.homes[care_home - self.homes[0].pk]
                    fee = self._fee(number)
                    offers.append((bid_id, invitation_id, bidder, fee))
                    bid_id += 1
                invitation_id += 1
            # Ranked by the weighted score the service computes: quality from the rating, price against the lowest.
            lowest = min((fee for *_, fee in offers), default=None)
            scored = []
            for pk, invitation, bidder, fee in offers:
                quality = Decimal(RATING_SCORES.get(bidder.rating, 50))
                price = (lowest / fee * 100).quantize(PENNY)
                scored.append((pk, invitation, bidder, fee, quality, price, (quality * 60 + price * 40) / 100))
            scored.sort(key=lambda item: (-item[6], item[0]))
            for rank, (pk, invitation, bidder, fee, quality, price, total) in enumerate(scored, start=1):
                submitted_at = opened_at + timedelta(minutes=self.random.randrange(1, 60 * 20))
                bids.append(
                    (
                        pk,
                        tender_id,
                        invitation,
                        bidder.pk,
                        bidder.provider_id,
                        fee,
                        timezone.localdate(requested_at) + timedelta(days=3),
                        True,
                        Bid.Status.SUBMITTED,
                        submitted_at,
                        submitted_at,
                        self.provider_users[bidder.provider_id],
                        quality if evaluated else None,
                        price if evaluated else None,
                        total.quantize(PENNY) if evaluated else None,
                        rank if evaluated else None,
                        fee > max_rate,
                        "{}",
                    )
                )
                if rank == 1 and status == Tender.Status.AWARDED:
                    top_up = max(fee - max_rate, Decimal("0.00"))
                    awards.append(
                        (
                            award_id,
                            tender_id,
                            pk,
                            council.broker_id,
                            awarded_at,
                            True,
                            top_up,
                            "Family member" if top_up else "",
                        )
                    )
                    awarded.append(
                        (council, request_id, bidder, number, fee, top_up, requested_at, target_date, awarded_at)
                    )
                    award_id += 1
            if len(requests) >= PROGRESS_EVERY:
                self._flush_tenders(requests, tenders, invitations, bids, awards)
        self._flush_tenders(requests, tenders, invitations, bids, awards)
        return awarded

    def _flush_tenders(self, requests, tenders, invitations, bids, awards) -> None:
        copy_rows(
            PlacementRequest,
            [
                "id",
                "commissioner_id",
                "case_reference",
                "lot_id",
                "needs_summary",
                "local_authority",
                "latitude",
                "longitude",
                "max_distance_km",
                "needed_from",
                "max_weekly_rate",
                "status",
                "requested_at",
                "target_date",
                "sourced_at",
                "created_by_id",
                "urgency",
                "hospital_id",
                "ready_for_discharge_at",
                "pathway",
                "target_at",
            ],
            requests,
        )
        copy_rows(
            Tender,
            [
                "id",
                "request_id",
                "status",
                "opened_at",
                "closes_at",
                "closed_at",
                "evaluated_at",
                "quality_weight",
                "price_weight",
                "not_yet_rated_score",
                "max_weekly_rate",
                "created_by_id",
            ],
            tenders,
        )
        copy_rows(Invitation, ["id", "tender_id", "care_home_id", "distance_km", "invited_at"], invitations)
        copy_rows(
            Bid,
            [
                "id",
                "tender_id",
                "invitation_id",
                "care_home_id",
                "provider_id",
                "weekly_fee",
                "earliest_start",
                "needs_confirmed",
                "status",
                "submitted_at",
                "updated_at",
                "submitted_by_id",
                "quality_score",
                "price_score",
                "total_score",
                "rank",
                "above_max_rate",
                "working",
            ],
            bids,
        )
        copy_rows(
            Award,
            [
                "id",
                "tender_id",
                "bid_id",
                "awarded_by_id",
                "awarded_at",
                "top_ranked",
                "top_up_weekly_amount",
                "top_up_payer",
            ],
            awards,
        )
        for name, rows in [
            ("placement requests", requests),
            ("tenders", tenders),
            ("invitations", invitations),
            ("bids", bids),
            ("awards", awards),
        ]:
            if rows:
                self._count(name, len(rows))
            rows.clear()

    def _placements(self, awarded: list[tuple]) -> None:
        total = max(self.sizes.placements, len(awarded))
        first = reserve_ids(Placement, total)

        def start_and_end(sourced: date) -> tuple[date, date | None]:
            start = sourced + timedelta(days=self.random.randrange(0, 5))
            if self.random.random() < 0.55:
                return start, start + timedelta(days=self.random.randrange(14, 900))
            return start, None

        def rows():
            pk = first
            for council, request_id, home, number, fee, top_up, requested_at, target_date, awarded_at in awarded:
                start, end = start_and_end(timezone.localdate(awarded_at))
                yield (
                    pk,
                    council.pk,
                    request_id,
                    f"CASE-{self.seed}-{request_id}",
                    home.pk,
                    self.lots[number].pk,
                    Placement.Source.TENDER,
                    fee,
                    fee - top_up,
                    top_up,
                    "Family member" if top_up else "",
                    start,
                    end,
                    home.local_authority == council.local_authority,
                    requested_at,
                    target_date,
                    awarded_at,
                    council.broker_id,
                )
                pk += 1
            for index in range(total - len(awarded)):
                council = self.councils[index % len(self.councils)]
                number = self.random.choice(LOT_MIX)
                requested_at = self._moment()
                target_date = timezone.localdate(requested_at) + timedelta(days=self.target_days[(council.pk, number)])
                # Most are sourced within target; the tail is what the dashboard is for.
                delay = timedelta(hours=self.random.expovariate(1 / (24 * 3.5)))
                sourced_at = min(requested_at + delay, self.now - timedelta(hours=1))
                home = (
                    self.homes[self.random.choice(council.homes) - self.homes[0].pk]
                    if self.random.random() < 0.85
                    else None
                )
                fee = self._fee(number)
                top_up = (
                    Decimal(self.random.choice([25, 50, 75, 100])).quantize(PENNY)
                    if self.random.random() < 0.08
                    else Decimal("0.00")
                )
                start, end = start_and_end(timezone.localdate(sourced_at))
                yield (
                    pk,
                    council.pk,
                    None,
                    f"HIST-{self.seed}-{pk}",
                    home.pk if home else None,
                    self.lots[number].pk,
                    Placement.Source.IMPORTED,
                    fee + top_up,
                    fee,
                    top_up,
                    "Family member" if top_up else "",
                    start,
                    end,
                    home.local_authority == council.local_authority if home else self.random.random() < 0.8,
                    requested_at,
                    target_date,
                    sourced_at,
                    None,
                )
                pk += 1
                if (pk - first) % PROGRESS_EVERY == 0:
                    self.progress(f"  ... {pk - first:,} placements written")

        written = copy_rows(
            Placement,
            [
                "id",
                "commissioner_id",
                "request_id",
                "case_reference",
                "care_home_id",
                "lot_id",
                "source",
                "weekly_fee",
                "council_weekly_amount",
                "top_up_weekly_amount",
                "top_up_payer",
                "start_date",
                "end_date",
                "in_county",
                "requested_at",
                "target_date",
                "sourced_at",
                "created_by_id",
            ],
            rows(),
        )
        self._count("placements", written)
