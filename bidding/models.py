"""Tenders, invitations, sealed bids, evaluation and awards."""
