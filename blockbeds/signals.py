"""Block contract events that higher apps react to (contracts moves its placements' fees)."""

from django.dispatch import Signal

# Sent inside the transaction with `contract`, `effective_from`, `weekly_rate` and `actor`
# when a negotiated weekly rate is recorded for a block contract.
block_rate_changed = Signal()
