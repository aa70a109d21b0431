"""Demo placement history: about eighteen months of sourced placements for the demo council.

Timeliness is realistic: most lots are sourced on time more than 75% of the time and improve
over the period; the small specialist lots (mental health, physical disability nursing) miss
the target more often. Fees start near each lot's guide fee and drift upwards.

Deterministic (a fixed random seed, months relative to today) and idempotent: the history is
only created when the council has none yet.
"""

import random
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from dashboards.reports.common import LONDON, months_between
from demo.organisations import COUNCIL_SLUG
from lots.models import LotRules
from organisations.models import Organisation
from placements.models import Placement
from providers.models import Admission, CareHome

REFERENCE_PREFIX = "SCC-HIST-"
MONTHS = 18
# Lot: (placements sourced a month, chance of sourcing on time at the start, at the end)
LOT_PROFILE = {
    1: (14, 0.80, 0.93),
    2: (26, 0.80, 0.94),
    3: (2, 0.85, 0.95),
    4: (3, 0.72, 0.86),
    5: (2, 0.60, 0.74),
    6: (11, 0.78, 0.91),
    7: (16, 0.74, 0.89),
    8: (1, 0.78, 0.88),
    9: (1, 0.50, 0.62),
    10: (2, 0.55, 0.70),
}


SPECIALISM_FOR_GROUP = {
    "older_people": "older-people",
    "learning_disability": "learning-disabilities",
    "physical_disability": "physical-disabilities",
    "mental_health": "mental-health",
}


def _homes_for(lot, council, all_homes: list[CareHome]) -> list[CareHome]:
    """Homes admitted to the lot if the DPS is already seeded, else homes whose setting and specialism fit."""
    admitted = [
        a.care_home
        for a in Admission.objects.filter(
            commissioner=council, lot=lot, status=Admission.Status.ADMITTED
        ).select_related("care_home")
    ]
    if admitted:
        return admitted
    setting = {"provides_nursing": True} if lot.setting == "nursing" else {"provides_residential": True}
    fitting = list(
        CareHome.objects.filter(specialisms__code=SPECIALISM_FOR_GROUP[lot.client_group], **setting).distinct()
    )
    return fitting or all_homes


@transaction.atomic
def seed_placement_history(*, stdout=None) -> int:
    council = Organisation.objects.get(slug=COUNCIL_SLUG)
    if Placement.objects.filter(commissioner=council, case_reference__startswith=REFERENCE_PREFIX).exists():
        return 0
    rng = random.Random(20240320)
    rules = {r.lot.number: r for r in LotRules.objects.filter(commissioner=council).select_related("lot")}
    all_homes = list(CareHome.objects.all())
    homes = {number: _homes_for(r.lot, council, all_homes) for number, r in rules.items()}
    today = timezone.localdate()
    last_month = (today.replace(day=1) - timedelta(days=1)).replace(day=1)
    year, month = last_month.year, last_month.month - (MONTHS - 1)
    while month < 1:
        year, month = year - 1, month + 12
    months = months_between(date(year, month, 1), last_month)
    county = council.local_authority.lower()
    placements = []
    for index, month in enumerate(months):
        progress = index / max(len(months) - 1, 1)
        for lot_number, (volume, start_rate, end_rate) in LOT_PROFILE.items():
            lot_rules = rules[lot_number]
            on_time_rate = start_rate + (end_rate - start_rate) * progress + rng.uniform(-0.08, 0.08)
            for _ in range(max(0, volume + rng.randint(-volume // 3 - 1, volume // 3 + 1))):
                requested_day = month + timedelta(days=rng.randint(0, 27))
                requested_at = datetime.combine(requested_day, time(rng.randint(8, 16), rng.randint(0, 59)), LONDON)
                target = requested_day + timedelta(days=lot_rules.target_days)
                if rng.random() < on_time_rate:
                    sourced_day = requested_day + timedelta(days=rng.randint(0, lot_rules.target_days))
                else:
                    sourced_day = target + timedelta(days=rng.randint(1, 9))
                sourced_at = datetime.combine(sourced_day, time(rng.randint(9, 17), rng.randint(0, 59)), LONDON)
                if sourced_day >= today:
                    continue
                home = rng.choice(homes[lot_number])
                drift = Decimal(1 + 0.004 * index + rng.uniform(-0.06, 0.12))
                fee = (lot_rules.guide_weekly_fee * drift).quantize(Decimal("0.01"))
                start = sourced_day + timedelta(days=rng.randint(0, 4))
                end = start + timedelta(days=rng.randint(20, 500)) if rng.random() < 0.45 else None
                placements.append(
                    Placement(
                        commissioner=council,
                        case_reference=f"{REFERENCE_PREFIX}{len(placements) + 1:05d}",
                        care_home=home,
                        lot_id=lot_rules.lot_id,
                        source=Placement.Source.IMPORTED,
                        weekly_fee=fee,
                        council_weekly_amount=fee,
                        start_date=start,
                        end_date=end if end and end < today else None,
                        in_county=home.local_authority.lower() == county,
                        requested_at=requested_at,
                        target_date=target,
                        sourced_at=sourced_at,
                    )
                )
    Placement.objects.bulk_create(placements, batch_size=1000)
    if stdout:
        stdout.write(f"  {len(placements)} past placements over {len(months)} months")
    return len(placements)
