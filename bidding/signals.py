"""What happens in a tender's life that higher apps react to (fairness, contracts)."""

from django.dispatch import Signal

# Sent inside the award's transaction with `award`, `placement` and `standstill_waiver_reason`,
# after the placement is created and before the tender is marked awarded. A receiver that
# raises undoes the award.
award_made = Signal()
