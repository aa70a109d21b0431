from django.apps import AppConfig


class BlockbedsConfig(AppConfig):
    name = "blockbeds"

    def ready(self) -> None:
        from . import audit_labels  # noqa: F401  (the audit verbs' words)
