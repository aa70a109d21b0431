"""Quality's audit verbs in the words people read."""

from core.audit import verb_labels_register

verb_labels_register(
    {
        "quality.cqc.batch_imported": "CQC ratings imported",
        "quality.rating.recorded": "CQC rating recorded",
    }
)
