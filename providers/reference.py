"""Specialisms in the names CQC uses for service user bands."""

SPECIALISMS = [
    ("dementia", "Dementia"),
    ("learning-disabilities", "Learning disabilities"),
    ("autism", "Autism"),
    ("mental-health", "Mental health conditions"),
    ("physical-disabilities", "Physical disabilities"),
    ("sensory-impairments", "Sensory impairments"),
    ("older-people", "Caring for adults over 65 yrs"),
    ("younger-adults", "Caring for adults under 65 yrs"),
    ("substance-misuse", "Substance misuse problems"),
    ("eating-disorders", "Eating disorders"),
    ("mental-health-act", "Caring for people whose rights are restricted under the Mental Health Act"),
]
