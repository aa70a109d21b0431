"""Closures' audit verbs in the words people read on timelines."""

from core.audit import verb_labels_register

verb_labels_register(
    {
        "closures.home_closure.announced": "Home closing: move plan started",
        "closures.resident_move.updated": "Resident's move updated",
        "closures.resident_move.request_raised": "Urgent request raised for a new home",
        "closures.hand_back.given": "Provider handed care back with notice",
        "closures.off_dps.placed": "Placed off the DPS by the person's choice",
    }
)
