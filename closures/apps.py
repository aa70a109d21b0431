from django.apps import AppConfig


class ClosuresConfig(AppConfig):
    name = "closures"
    verbose_name = "Home closures and hand-backs"

    def ready(self) -> None:
        from . import audit_labels, signals  # noqa: F401  (the timeline's words; the CQC deregistration receiver)
