from django.apps import AppConfig


class IntegrationsConfig(AppConfig):
    name = "integrations"

    def ready(self) -> None:
        from . import audit_labels, signals  # noqa: F401  (connects the receivers; the audit verbs' words)
