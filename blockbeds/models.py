"""Block contracts and their beds."""
