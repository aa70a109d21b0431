"""Bidding's audit verbs in the words people read on timelines."""

from core.audit import verb_labels_register

verb_labels_register(
    {
        "bidding.tender.published": "Published to tender",
        "bidding.invitation.withdrawn": "Invitation withdrawn",
        "bidding.bid.submitted": "Bid received",
        "bidding.bid.amended": "Bid amended",
        "bidding.bid.withdrawn": "Bid withdrawn",
        "bidding.bid.excluded": "Bid excluded",
        "bidding.tender.closed": "Tender closed",
        "bidding.tender.closed_no_bids": "Tender closed with no bids",
        "bidding.tender.evaluated": "Bids scored and ranked",
        "bidding.tender.awarded": "Awarded",
        "bidding.bid.not_acceptable": "Bid not acceptable for an award at once",
        "bidding.invitation.reminded": "Home reminded to bid before the close",
    }
)
