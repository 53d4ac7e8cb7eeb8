"""Production: gunicorn, Celery workers and beat against real PostgreSQL and Redis."""

from .base import *  # noqa: F403
from .base import env, env_bool, env_list, logging_config

DEBUG = False
SECRET_KEY = env("DJANGO_SECRET_KEY")
if not SECRET_KEY:
    raise RuntimeError("DJANGO_SECRET_KEY must be set in production")
# /metrics names tenants and their backlogs: never served without its token.
METRICS_TOKEN = env("METRICS_TOKEN")
if not METRICS_TOKEN:
    raise RuntimeError("METRICS_TOKEN must be set in production (/metrics asks for it)")

STORAGES = {
    **STORAGES,  # noqa: F405
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = False

SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
SECURE_REDIRECT_EXEMPT = [r"^health/"]
SECURE_HSTS_SECONDS = int(env("SECURE_HSTS_SECONDS", "31536000"))
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = True
# Plain-HTTP serving on a laptop (`make run`) turns these off; behind TLS keep them on.
SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", True)
CSRF_COOKIE_SECURE = env_bool("CSRF_COOKIE_SECURE", True)
WAFFLE_SECURE = SESSION_COOKIE_SECURE
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")

# The test card gateway is a fake: production offers bank transfers only, unless the
# deployment lists more providers on purpose.
PAYMENT_PROVIDERS = env_list("PAYMENT_PROVIDERS", "manual")

# One JSON object per log line, unless the deployment asks for plain lines.
LOG_FORMAT = env("LOG_FORMAT", "json")
LOGGING = logging_config(LOG_FORMAT)
