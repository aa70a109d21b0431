from django.apps import AppConfig


class LotsConfig(AppConfig):
    name = "lots"

    def ready(self) -> None:
        from . import audit_labels, signals  # noqa: F401  (connects the receivers; the audit verbs' words)
