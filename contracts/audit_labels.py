"""Contracts' audit verbs in the words people read on timelines."""

from core.audit import verb_labels_register

verb_labels_register(
    {
        "contracts.agreement.created": "Service agreement created",
        "contracts.agreement.revised": "Service agreement revised",
        "contracts.agreement.accepted": "Service agreement accepted",
        "contracts.fee.changed": "Weekly fee changed",
        "contracts.fee.uplifted": "Weekly fee raised by a fee uplift",
        "contracts.placement.ended": "Placement ended",
        "contracts.uplift.created": "Fee uplift created",
        "contracts.uplift.queued": "Fee uplift started",
        "contracts.uplift.applied": "Fee uplift applied",
        "contracts.funding.changed": "Who pays the fee changed",
        "contracts.funding.fnc_followed": "NHS nursing care share moved to the new national rate",
        "contracts.top_up.stopped": "Top-up stopped: the council pays it",
        "contracts.top_up_agreement.recorded": "Top-up agreement recorded",
        "contracts.absence.recorded": "Absence from the home recorded",
        "contracts.absence.ended": "Return to the home recorded",
        "contracts.death.recorded": "Death recorded",
        "contracts.outcome_payment.earned": "Outcome payment earned",
        "contracts.outcome_rule.created": "Outcome payment rule created",
        "contracts.fnc_rate.recorded": "National FNC rate entered",
        "contracts.fnc_rate.applied": "National FNC rate applied to nursing placements",
        "contracts.fnc_rate.queued": "National FNC rate being applied to nursing placements",
        "contracts.fnc_rate.progress": "National FNC rate applied to some nursing placements so far",
        "contracts.payment_rules.updated": "Payment rules for absences and deaths changed",
    }
)
