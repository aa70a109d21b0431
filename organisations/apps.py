from django.apps import AppConfig


class OrganisationsConfig(AppConfig):
    name = "organisations"

    def ready(self):
        from . import audit_labels, authentication, schema  # noqa: F401  (the audit verbs' words; the
        # API credentials cache's invalidation; the OpenAPI authentication scheme)
