from django.apps import AppConfig


class EventAppConfig(AppConfig):
    """A small tenant app used by the event backbone's tests: an aggregate, its events, a recorder."""

    name = "tests.eventapp"
    label = "eventapp"
