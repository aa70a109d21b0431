from django.apps import AppConfig


class OrganisationsConfig(AppConfig):
    name = "organisations"

    def ready(self):
        from . import audit_labels, schema  # noqa: F401  (the audit verbs' words; the OpenAPI
        # authentication scheme)
