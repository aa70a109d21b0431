"""Block beds' audit verbs in the words people read on timelines."""

from core.audit import verb_labels_register

verb_labels_register(
    {
        "blockbeds.offer.declined": "Block bed offer declined",
        "blockbeds.contract.created": "Block contract created",
        "blockbeds.contract.updated": "Block contract changed",
        "blockbeds.contract.ended": "Block contract ended early",
        "blockbeds.contract.rate_changed": "Weekly rate changed",
        "blockbeds.contract.rate_uplifted": "Weekly rate raised by a fee uplift",
        "blockbeds.bed.live_date_set": "Bed's start date set",
        "blockbeds.bed.filled": "Bed filled",
        "blockbeds.bed.void": "Bed became empty",
        "blockbeds.bed.out_of_service": "Bed taken out of service",
        "blockbeds.bed.returned_to_service": "Bed back in service",
    }
)
