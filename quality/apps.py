from django.apps import AppConfig


class QualityConfig(AppConfig):
    name = "quality"

    def ready(self) -> None:
        from . import (
            audit_labels,  # noqa: F401  (the audit verbs' words)
            signals,  # noqa: F401  (the home pages' notices)
        )
