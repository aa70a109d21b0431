"""Placements' audit verbs in the words people read on a request's timeline."""

from core.audit import verb_labels_register

verb_labels_register(
    {
        "placements.request.created": "Request created",
        "placements.referral.created": "Hospital discharge referral raised",
        "placements.request.retendered": "Area or rate changed to tender again",
        "placements.request.cancelled": "Request cancelled",
        "placements.request.anonymised": "Personal details removed",
        "placements.placement.cancelled": "Placement cancelled",
        "placements.placement.assessment_outcome_recorded": "Discharge-to-assess outcome recorded",
    }
)
