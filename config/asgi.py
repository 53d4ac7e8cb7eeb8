import os

import django
from django.core.handlers.asgi import ASGIHandler

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.prod")

# get_asgi_application(), with tracing set up between Django's set-up and the handler's
# loading of the middleware (the Django instrumentation adds its own).
django.setup(set_prefix=False)

from apps.core import telemetry  # noqa: E402 - needs the settings

telemetry.setup("web")
application = ASGIHandler()
