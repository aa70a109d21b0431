"""Care home events that higher apps react to (bidding takes a suspended home out of open tenders)."""

from django.dispatch import Signal

# Sent inside the suspending transaction with `care_home`, `actor`, `reason` (as the provider
# reads it), `commissioner` (the suspending body, or None for the CQC's Inadequate rating, which
# holds on every body's DPS) and `lot` (one lot, or None for all).
care_home_suspended = Signal()
