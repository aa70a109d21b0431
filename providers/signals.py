"""Care home events that higher apps react to: bidding takes a suspended home, or one closed to
admissions, out of open tenders."""

from django.dispatch import Signal

# Sent inside the suspending transaction with `care_home`, `actor`, `reason` (as the provider
# reads it), `commissioner` (the suspending body, or None for the CQC's Inadequate rating, which
# holds on every body's DPS) and `lot` (one lot, or None for all).
care_home_suspended = Signal()

# Sent inside the writing transaction once a closure to admissions has started, with `closure`,
# `care_home`, `actor` (None when the closure was dated ahead and beat started it), `reason` (as
# the provider reads it) and `commissioner` (the body it binds, or None for every body).
admission_closure_started = Signal()

# Sent inside the CQC import's transaction when a known home turns from registered to deregistered,
# with `care_home`: closures plans the moves of the people living there.
care_home_deregistered = Signal()
