from django.apps import AppConfig


class DemoConfig(AppConfig):
    """Demo data for every app, loaded by `manage.py seed_demo`. Sits on top: it may use any app."""

    name = "demo"
