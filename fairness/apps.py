from django.apps import AppConfig


class FairnessConfig(AppConfig):
    name = "fairness"
    verbose_name = "Fairness and choice"

    def ready(self) -> None:
        from . import audit_labels, next_steps, signals, todo  # noqa: F401  (registers the award check, the
        # next-step rule, the receivers, the home page's to-do items and the timeline's words)
