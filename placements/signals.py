"""Placement events that higher apps react to (contracts keeps each placement's agreement)."""

from django.dispatch import Signal

# Sent inside the creating transaction with `placement` and `actor`, by every service that
# creates a placement from a tender award or a block bed.
placement_created = Signal()

# Sent inside the transaction with `placement` and `actor` once the placement's `end_date`
# has been saved by the service that ended it (a block-bed stay ending).
placement_ended = Signal()

# Sent inside the transaction with `placement` and `actor` when a lapsed award's placement is
# cancelled; receivers close whatever they hold for it.
placement_cancelled = Signal()

# Sent inside the recording transaction with `placement`, `outcome` (a `Placement.AssessmentOutcome`),
# `on` (the date it took effect) and `by` (the broker) when a discharge-to-assess stay's outcome is
# first recorded; recording the same outcome again sends nothing. Contracts issues the agreement
# version (a long-term stay in the same home changes the payer) and any outcome payment.
assessment_outcome_recorded = Signal()
