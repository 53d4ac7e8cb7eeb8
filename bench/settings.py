"""Production settings plus the bare view of ``bench/storefront.py`` (``bench/urls.py``)."""

from config.settings.prod import *  # noqa: F403
from config.settings.prod import BASE_DIR, TEMPLATES

ROOT_URLCONF = "bench.urls"
TEMPLATES[0]["DIRS"] = [*TEMPLATES[0]["DIRS"], BASE_DIR / "bench" / "templates"]
