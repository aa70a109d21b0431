"""Quality's audit verbs in the words people read."""

from core.audit import verb_labels_register

verb_labels_register(
    {
        "quality.cqc.batch_imported": "CQC ratings imported",
        "quality.rating.recorded": "CQC rating recorded",
        "quality.monitoring_framework.started": "Monitoring framework started from the default questions",
        "quality.monitoring_framework.scale_set": "Monitoring scale changed",
        "quality.monitoring_question.added": "Monitoring question added",
        "quality.monitoring_question.retired": "Monitoring question retired",
        "quality.monitoring_visit.recorded": "Contract monitoring visit recorded",
        "quality.concern.recorded": "Complaint or safeguarding concern recorded",
        "quality.concern.updated": "Complaint or safeguarding concern updated",
        "quality.scoring_rule.updated": "How quality is scored changed",
        "quality.improvement_action.added": "Improvement action agreed",
        "quality.improvement_action.updated": "Improvement action progress reported",
        "quality.return_measures.started": "Return measures started from the default set",
        "quality.provider_return.submitted": "Provider return submitted",
        "quality.provider_return.resubmitted": "Provider return resubmitted, replacing its answers",
        "quality.provider_return.accepted": "Provider return accepted",
        "quality.provider_return.due": "Provider reminded that a return is due",
        "quality.provider_return.overdue": "Provider reminded that a return is overdue",
        "quality.return_measure.added": "Return measure added",
        "quality.return_measure.retired": "Return measure retired",
    }
)
