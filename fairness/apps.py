from django.apps import AppConfig


class FairnessConfig(AppConfig):
    name = "fairness"
    verbose_name = "Fairness and choice"

    def ready(self) -> None:
        from . import signals  # noqa: F401  (registers the award check and connects the receivers)
