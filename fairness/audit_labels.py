"""Fairness and choice audit verbs in the words people read on timelines."""

from core.audit import verb_labels_register

verb_labels_register(
    {
        "fairness.abnormal_price.confirmed": "Provider confirmed an unusually low price",
        "fairness.question.asked": "Clarification question asked",
        "fairness.question.answered": "Clarification question answered",
        "fairness.deadline.extended": "Tender deadline extended",
        "fairness.shortlist.shared": "Shortlist shared with the person",
        "fairness.choice.recorded": "Person's choice recorded",
        "fairness.bed_hold.confirmed": "Home confirmed the bed",
        "fairness.award.lapsed": "Award lapsed and offered to the next bid",
        "fairness.standstill.started": "Standstill period started",
        "fairness.standstill.waived": "Standstill period waived",
        "fairness.standstill.confirmed": "Award confirmed after the standstill period",
        "fairness.challenge.raised": "Award challenged",
        "fairness.challenge.dismissed": "Challenge dismissed",
        "fairness.challenge.upheld": "Challenge upheld",
    }
)
