"""Lots' audit verbs in the words people read."""

from core.audit import verb_labels_register

verb_labels_register(
    {
        "lots.rules.updated": "Lot rules changed",
        "lots.urgency_rules.updated": "Urgency rules changed",
        "lots.dps.recorded": "DPS agreement recorded",
        "lots.dps.extended": "DPS term extended",
        "lots.dps.notice_added": "DPS notice added",
    }
)
