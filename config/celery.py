import os

from celery import Celery
from celery.signals import worker_init, worker_shutting_down

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.dev")

app = Celery("platform")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@worker_init.connect
def _map_relay_stop_flag(**kwargs) -> None:
    """Import the relay in the main process, so the pool it forks shares its stop flag."""
    from apps.events import relay  # noqa: F401


@worker_shutting_down.connect
def _stop_relay_drains(**kwargs) -> None:
    """A warm shutdown stops every drain of the pool after its batch, leases released."""
    from apps.events import relay

    relay.request_stop()
