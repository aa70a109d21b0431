"""Demo hospital discharges: a hospital that refers to the demo council, with a discharge
coordinator's login; a year of urgent referrals and discharge-to-assess stays for the discharge
dashboard; live urgent referrals in every state, one closing a few minutes after seeding; a
discharge-to-assess stay past its review date with no outcome; and free beds of several kinds,
fresh and stale.

Deterministic (a fixed random seed, times relative to now) and idempotent: referrals are
recognised by their case reference.
"""

import random
from datetime import datetime, time, timedelta
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from bidding.services import placement_request_cancel, tender_award, tender_close_and_evaluate, tender_publish
from blockbeds.services import block_offer_decline, block_offer_pending
from dashboards.reports.common import LONDON
from demo.bidding import _bid_all, _close_in
from demo.organisations import COUNCIL_SLUG, Login, _user
from lots.models import Lot, LotRules, Urgency, UrgencyRules
from lots.selectors import urgency_rules_for
from lots.services import urgency_rules_update
from organisations.models import Organisation, Role, User
from organisations.services import organisation_create
from placements.models import Pathway, Placement, PlacementRequest
from placements.services import placement_request_create
from providers.models import Admission, BedVacancy, CareHome

HOSPITAL_SLUG = "royal-stoke"
HOSPITAL_NAME = "Royal Stoke University Hospital"
COORDINATOR_EMAIL = "coordinator@royal-stoke.example"
PREFIX = "DEMO-D-"
HISTORY_PREFIX = "DEMO-DH-"
OVERDUE_CASE = f"{HISTORY_PREFIX}OVERDUE"
HISTORY_MONTHS = 12
WARD = "Ward 106 (frailty), discharge coordinator on 01782 000106"
NEEDS = (
    "Older person medically fit for discharge after a fall; needs a bed to assess long-term needs, "
    "help with mobility and personal care."
)
OUTCOME_MIX = [
    (Placement.AssessmentOutcome.LONG_TERM_SAME_HOME, 45),
    (Placement.AssessmentOutcome.HOME, 30),
    (Placement.AssessmentOutcome.LONG_TERM_ELSEWHERE, 12),
    (Placement.AssessmentOutcome.DIED, 8),
    (Placement.AssessmentOutcome.READMITTED, 5),
]


def seed_hospital(logins: list[Login]) -> Organisation:
    council = Organisation.objects.get(slug=COUNCIL_SLUG)
    hospital = Organisation.objects.filter(slug=HOSPITAL_SLUG).first() or organisation_create(
        kind=Organisation.Kind.HOSPITAL, name=HOSPITAL_NAME, slug=HOSPITAL_SLUG, local_authority="Stoke-on-Trent"
    )
    hospital.refers_to.add(council)
    _user(hospital, Role.DISCHARGE_COORDINATOR, COORDINATOR_EMAIL, "Dev Coordinator", logins)
    return hospital


def _pick(rng: random.Random, mix):
    values, weights = zip(*mix, strict=True)
    return rng.choices(values, weights)[0]


def _admitted_homes(council, lot) -> list:
    return [
        admission.care_home
        for admission in Admission.objects.filter(
            commissioner=council, lot=lot, status=Admission.Status.ADMITTED
        ).select_related("care_home")
    ]


def seed_discharge_history(*, council, hospital, broker, stdout=None) -> int:
    """A year of hospital discharges and urgent community requests, each placed, with their waits;
    pathway-3 stays with their assessment and, once reviewed, their outcome."""
    if PlacementRequest.objects.filter(commissioner=council, case_reference__startswith=HISTORY_PREFIX).exists():
        return 0
    rng = random.Random(20261207)
    now = timezone.now()
    today = timezone.localdate()
    lot = Lot.objects.get(number=1)
    homes = _admitted_homes(council, lot)
    rules = {
        urgency: urgency_rules_for(council, lot, urgency)
        for urgency in (Urgency.HOSPITAL_DISCHARGE, Urgency.URGENT_COMMUNITY)
    }
    guide = LotRules.objects.get(commissioner=council, lot=lot).guide_weekly_fee
    pairs = []
    for day_back in range(HISTORY_MONTHS * 30, 2, -1):
        day = today - timedelta(days=day_back)
        for _ in range(rng.choice([0, 1, 1, 1, 2])):
            urgency = Urgency.HOSPITAL_DISCHARGE if rng.random() < 0.8 else Urgency.URGENT_COMMUNITY
            # Any hour of the day: evenings and weekends work like weekdays.
            ready = datetime.combine(day, time(rng.randint(0, 23), rng.randint(0, 59)), LONDON)
            requested_at = ready + timedelta(minutes=rng.randint(10, 180))
            # Winter waits are longer; most are sourced within the day.
            winter = day.month in (12, 1, 2)
            hours = rng.lognormvariate(2.6 if winter else 2.3, 0.8)
            sourced_at = requested_at + timedelta(hours=hours)
            if sourced_at >= now:
                continue
            rule = rules[urgency]
            waited_from = ready if urgency == Urgency.HOSPITAL_DISCHARGE else requested_at
            target_at = waited_from + timedelta(hours=rule.target_hours)
            d2a = urgency == Urgency.HOSPITAL_DISCHARGE and rng.random() < 0.5
            request = PlacementRequest(
                commissioner=council,
                case_reference=f"{HISTORY_PREFIX}{len(pairs) + 1:05d}",
                lot=lot,
                needs_summary=NEEDS,
                local_authority="Staffordshire",
                needed_from=timezone.localdate(sourced_at),
                max_weekly_rate=guide,
                status=PlacementRequest.Status.PLACED,
                requested_at=requested_at,
                target_date=timezone.localdate(target_at),
                target_at=target_at,
                sourced_at=sourced_at,
                created_by=broker,
                urgency=urgency,
                hospital=hospital if urgency == Urgency.HOSPITAL_DISCHARGE else None,
                ward_contact=WARD if urgency == Urgency.HOSPITAL_DISCHARGE else "",
                ready_for_discharge_at=ready if urgency == Urgency.HOSPITAL_DISCHARGE else None,
                pathway=(Pathway.PATHWAY_3_ASSESSMENT if d2a else Pathway.LONG_TERM)
                if urgency == Urgency.HOSPITAL_DISCHARGE
                else "",
            )
            home = rng.choice(homes)
            fee = (guide * Decimal(str(round(rng.uniform(0.95, 1.12), 3)))).quantize(Decimal("0.01"))
            start = timezone.localdate(sourced_at) + timedelta(days=rng.choice([0, 0, 1]))
            placement = Placement(
                commissioner=council,
                case_reference=request.case_reference,
                care_home=home,
                lot=lot,
                source=Placement.Source.IMPORTED,
                weekly_fee=fee,
                council_weekly_amount=fee,
                start_date=start,
                in_county=home.local_authority.lower() == council.local_authority.lower(),
                requested_at=requested_at,
                target_date=request.target_date,
                sourced_at=sourced_at,
            )
            if d2a:
                ends = start + timedelta(days=rules[Urgency.HOSPITAL_DISCHARGE].assessment_days)
                placement.pathway = Pathway.PATHWAY_3_ASSESSMENT
                placement.assessment_ends_on = placement.review_on = ends
                decided = ends + timedelta(days=rng.randint(-5, 4))
                if decided < today:
                    placement.assessment_outcome = _pick(rng, OUTCOME_MIX)
                    placement.assessment_outcome_on = max(decided, start)
            pairs.append((request, placement))
    # The latest stay whose review has passed is left without its outcome: it shows at risk.
    reviewed = [p for _, p in pairs if p.review_on and p.review_on < today]
    if reviewed:
        overdue = reviewed[-1]
        overdue.assessment_outcome, overdue.assessment_outcome_on = "", None
        overdue.case_reference = OVERDUE_CASE
        next(r for r, p in pairs if p is overdue).case_reference = OVERDUE_CASE
    requests = PlacementRequest.objects.bulk_create([request for request, _ in pairs], batch_size=500)
    for request, (_, placement) in zip(requests, pairs, strict=True):
        placement.request = request
    Placement.objects.bulk_create([placement for _, placement in pairs], batch_size=500)
    if stdout:
        stdout.write(f"  {len(pairs)} past urgent referrals over {HISTORY_MONTHS} months")
    return len(pairs)


def seed_referrals(*, council, hospital, broker, stdout=None) -> None:
    """Live urgent referrals in every state, one closing a few minutes after seeding."""
    if PlacementRequest.objects.filter(commissioner=council, case_reference__startswith=PREFIX).exists():
        return
    lots = {lot.number: lot for lot in Lot.objects.all()}
    now = timezone.now()

    def referral(number: int, *, ready_hours_ago: float = 3, pathway=Pathway.PATHWAY_3_ASSESSMENT, urgency=None, lot=1):
        urgent = urgency or Urgency.HOSPITAL_DISCHARGE
        discharge = urgent == Urgency.HOSPITAL_DISCHARGE
        created = placement_request_create(
            actor=broker,
            case_reference=f"{PREFIX}{number:02d}",
            lot=lots[lot],
            needs_summary=NEEDS,
            needed_from=timezone.localdate(),
            local_authority="Staffordshire",
            postcode="ST16 2LL",
            max_distance_km=Decimal("30"),
            urgency=urgent,
            hospital=hospital if discharge else None,
            ward_contact=WARD if discharge else "",
            ready_for_discharge_at=now - timedelta(hours=ready_hours_ago) if discharge else None,
            pathway=pathway if discharge else "",
        )
        if block_offer_pending(request=created):
            block_offer_decline(request=created, actor=broker, reason="The discharge-to-assess beds are full today.")
        return created

    referral(1, ready_hours_ago=0.5)

    # Lot 2's hospital discharges are awarded to the first acceptable bid: the bid in so far is above
    # the maximum rate, so the tender stays open, closing four minutes after seeding.
    commissioner = User.objects.filter(organisation=council, role=Role.COMMISSIONER, is_service_account=False).first()
    urgency_rules_update(
        lot_rules=LotRules.objects.get(commissioner=council, lot=lots[2]),
        urgency=Urgency.HOSPITAL_DISCHARGE,
        actor=commissioner,
        reason="Dementia beds for hospital discharges go to the first acceptable bid.",
        award_rule=UrgencyRules.AwardRule.FIRST_ACCEPTABLE,
    )
    closing = tender_publish(actor=broker, request=referral(2, ready_hours_ago=2, lot=2))
    _bid_all(closing, ["905.00"])
    _close_in(closing, timedelta(minutes=4))

    evaluated = tender_publish(actor=broker, request=referral(3, ready_hours_ago=9))
    _bid_all(evaluated, ["855.00", "905.00", "830.00"])
    _close_in(evaluated, -timedelta(minutes=30))
    tender_close_and_evaluate(tender_id=evaluated.pk)

    awarded = tender_publish(actor=broker, request=referral(4, ready_hours_ago=20))
    _bid_all(awarded, ["775.00", "760.00"])
    _close_in(awarded, -timedelta(hours=1))
    tender_close_and_evaluate(tender_id=awarded.pk)
    awarded.refresh_from_db()
    top = awarded.bids.filter(rank=1).first()
    if top is not None:
        tender_award(
            actor=broker,
            tender=awarded,
            bid=top,
            start_date=timezone.localdate(),
            standstill_waiver_reason="Hospital discharge: the person is medically fit and waiting in a ward bed.",
        )

    no_bids = tender_publish(actor=broker, request=referral(5, ready_hours_ago=30, pathway=Pathway.LONG_TERM, lot=6))
    _close_in(no_bids, -timedelta(minutes=10))
    tender_close_and_evaluate(tender_id=no_bids.pk)

    cancelled = referral(6, ready_hours_ago=5)
    placement_request_cancel(actor=broker, request=cancelled, reason="The person went home with a care package.")

    community = tender_publish(actor=broker, request=referral(7, urgency=Urgency.URGENT_COMMUNITY))
    _bid_all(community, ["840.00"])
    if stdout:
        stdout.write(
            "  7 urgent referrals: new, closing in 4 minutes, evaluated, awarded, no bids, cancelled, community"
        )


def seed_bed_vacancies(*, council, stdout=None) -> int:
    """Free beds in homes on the council's DPS, as their providers confirmed them: most within the
    last hours (fresh), some a few days ago (stale, shown as stale and not counted for urgent
    requests), of several kinds."""
    homes = list(
        CareHome.objects.filter(admissions__commissioner=council, admissions__status=Admission.Status.ADMITTED)
        .distinct()
        .order_by("name", "pk")
    )
    if not homes or BedVacancy.objects.filter(care_home__in=homes).exists():
        return 0
    rng = random.Random(1207)
    now = timezone.now()
    users = {
        user.organisation_id: user
        for user in User.objects.filter(
            role=Role.PROVIDER, organisation__care_homes__in=homes, is_service_account=False
        )
    }
    kinds = [
        {"room_type": BedVacancy.RoomType.SINGLE, "en_suite": True},
        {"room_type": BedVacancy.RoomType.SINGLE, "ground_floor": True},
        {"room_type": BedVacancy.RoomType.SHARED, "gender": BedVacancy.Gender.FEMALE},
        {"room_type": BedVacancy.RoomType.SINGLE, "bariatric": True, "en_suite": True},
    ]
    vacancies = []
    for index, home in enumerate(homes):
        if index % 3 == 2:
            continue
        stale = index % 4 == 3
        hours_ago = rng.randint(30, 96) if stale else rng.randint(1, 20)
        vacancies.append(
            BedVacancy(
                care_home=home,
                setting=BedVacancy.Setting.NURSING if home.provides_nursing else BedVacancy.Setting.RESIDENTIAL,
                beds=rng.choice([1, 1, 2, 3]),
                confirmed_at=now - timedelta(hours=hours_ago, minutes=rng.randint(0, 59)),
                confirmed_by=users.get(home.provider_id),
                **kinds[index % len(kinds)],
            )
        )
    BedVacancy.objects.bulk_create(vacancies)
    if stdout:
        stdout.write(f"  {len(vacancies)} bed vacancies, fresh and stale")
    return len(vacancies)


@transaction.atomic
def seed_discharge(*, stdout=None) -> list[Login]:
    logins: list[Login] = []
    hospital = seed_hospital(logins)
    council = Organisation.objects.get(slug=COUNCIL_SLUG)
    broker = User.objects.filter(organisation=council, role=Role.BROKER, is_service_account=False).first()
    seed_bed_vacancies(council=council, stdout=stdout)
    seed_discharge_history(council=council, hospital=hospital, broker=broker, stdout=stdout)
    seed_referrals(council=council, hospital=hospital, broker=broker, stdout=stdout)
    return logins
