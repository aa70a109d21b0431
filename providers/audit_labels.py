"""Providers' audit verbs (homes, lots, vacancies, postcodes) in the words people read."""

from core.audit import verb_labels_register

verb_labels_register(
    {
        "providers.provider.invited": "Provider invited",
        "providers.care_home.added": "Care home added",
        "providers.care_homes.located": "Care homes placed on the map from their postcodes",
        "providers.postcodes.imported": "Postcodes imported",
        "providers.window.created": "Application window set",
        "providers.admission.applied": "Applied to join a lot",
        "providers.admission.admitted": "Admitted to a lot",
        "providers.admission.rejected": "Not admitted to a lot",
        "providers.admission.suspended": "Suspended from a lot",
        "providers.admission.reinstated": "Reinstated on a lot",
        "providers.vacancies.confirmed": "Vacancies confirmed",
        "providers.bed_vacancies.saved": "Bed vacancies saved and confirmed",
        "providers.bed_vacancies.confirmed": "Bed vacancies confirmed with no change",
        "providers.admission_closure.opened": "Closed to admissions",
        "providers.admission_closure.lifted": "Closure to admissions lifted",
        "providers.question.added": "Selection question added",
        "providers.question.retired": "Selection question no longer asked",
        "providers.document_requirement.set": "Compliance document required",
        "providers.document_requirement.removed": "Compliance document no longer required",
        "providers.document.uploaded": "Compliance document uploaded",
        "providers.document.expiring": "Compliance document about to expire: provider reminded",
        "providers.document.expired": "Compliance document expired",
        "providers.provider.registered": "Provider registered itself",
        "providers.provider.confirmed": "Provider's registration confirmed",
    }
)
