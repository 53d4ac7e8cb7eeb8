"""Local development: `make run`."""

from .base import *  # noqa: F403
from .base import env, env_bool

DEBUG = env_bool("DJANGO_DEBUG", True)
# Static files changed on disk are served at once.
WHITENOISE_AUTOREFRESH = DEBUG
# Static files come straight from the apps' and the project's folders (WhiteNoise's
# finders); STATIC_ROOT is for collectstatic in production.
STATIC_ROOT = None
# Emails are printed, not sent.
EMAIL_BACKEND = env("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
# Webhooks to a receiver on this machine (http://127.0.0.1:...) work in development.
WEBHOOKS_ALLOW_HTTP = env_bool("WEBHOOKS_ALLOW_HTTP", True)
WEBHOOKS_ALLOW_PRIVATE_ADDRESSES = env_bool("WEBHOOKS_ALLOW_PRIVATE_ADDRESSES", True)
