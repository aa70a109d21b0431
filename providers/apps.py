from django.apps import AppConfig


class ProvidersConfig(AppConfig):
    name = "providers"

    def ready(self) -> None:
        from . import todo  # noqa: F401  (the commissioner's home page's to-do items)
