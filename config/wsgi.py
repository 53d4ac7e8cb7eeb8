import os

import django
from django.core.handlers.wsgi import WSGIHandler

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.prod")

# get_wsgi_application(), with tracing set up between Django's set-up and the handler's
# loading of the middleware (the Django instrumentation adds its own).
django.setup(set_prefix=False)

from apps.core import telemetry  # noqa: E402 - needs the settings

telemetry.setup("web")
application = WSGIHandler()

# The page cache's release digest reads some 500 files: once as the process starts, not in the
# first reader's request.
from apps.storefront.page_cache import release  # noqa: E402

release()

# Last: what the process has built so far is frozen out of the collector's work.
from apps.core import gc_tuning  # noqa: E402

gc_tuning.tune()
