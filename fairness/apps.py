from django.apps import AppConfig


class FairnessConfig(AppConfig):
    name = "fairness"
    verbose_name = "Fairness and choice"

    def ready(self) -> None:
        from . import next_steps, signals, todo  # noqa: F401  (registers the award check, the next-step rule,
        # the receivers and the home page's to-do items)
