from importlib import import_module

from django.apps import AppConfig
from django.conf import settings
from django.utils.module_loading import autodiscover_modules
from django.utils.translation import gettext_lazy


class EventsConfig(AppConfig):
    name = "apps.events"
    label = "events"
    verbose_name = gettext_lazy("Events")

    def ready(self) -> None:
        # Every module's event catalogue and subscribers register on import.
        autodiscover_modules("events")
        autodiscover_modules("handlers")
        # Extra modules with events and handlers (the test suite's, for one).
        for path in getattr(settings, "EVENTS_EXTRA_MODULES", ()):
            import_module(path)
        from .health import register

        register()
