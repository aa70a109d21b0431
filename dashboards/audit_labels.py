"""Dashboards' audit verbs in the words people read."""

from core.audit import verb_labels_register

verb_labels_register(
    {
        "dashboards.placement_history.imported": "Placement history imported",
    }
)
