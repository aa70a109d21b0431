"""Placement requests and placements."""
