"""The ten lots (numbering and names as in the Staffordshire timeliness table) and defaults."""

from decimal import Decimal

LOTS = [
    (1, "Older people residential", "residential", "older_people", False),
    (2, "Older people residential dementia", "residential", "older_people", True),
    (3, "Learning disability residential (incl. autism)", "residential", "learning_disability", False),
    (4, "Physical disability residential (incl. sensory impairment)", "residential", "physical_disability", False),
    (5, "Adult mental health residential", "residential", "mental_health", False),
    (6, "Older people nursing", "nursing", "older_people", False),
    (7, "Older people nursing dementia", "nursing", "older_people", True),
    (8, "Learning disability nursing (incl. autism)", "nursing", "learning_disability", False),
    (9, "Physical disability nursing (incl. sensory impairment)", "nursing", "physical_disability", False),
    (10, "Adult mental health nursing", "nursing", "mental_health", False),
]

# Starting guide weekly fees a new commissioning body can then edit.
DEFAULT_GUIDE_FEES = {
    1: Decimal("780.00"),
    2: Decimal("850.00"),
    3: Decimal("1450.00"),
    4: Decimal("1200.00"),
    5: Decimal("950.00"),
    6: Decimal("980.00"),
    7: Decimal("1050.00"),
    8: Decimal("1700.00"),
    9: Decimal("1400.00"),
    10: Decimal("1150.00"),
}
