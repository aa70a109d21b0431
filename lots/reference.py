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

# The urgency rules a lot follows until its commissioning body saves its own: a discharge sourced
# within a day of the person being ready, an urgent community placement within three.
DEFAULT_URGENCY_RULES = {
    "hospital_discharge": {
        "target_hours": 24,
        "min_window_hours": 1,
        "default_window_hours": 4,
        "max_window_hours": 24,
    },
    "urgent_community": {
        "target_hours": 72,
        "min_window_hours": 2,
        "default_window_hours": 12,
        "max_window_hours": 48,
    },
}
