"""Settings shared by every environment. Values come from the environment."""

import os
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import dj_database_url
from csp.constants import NONE, SELF, UNSAFE_INLINE
from django.utils.translation import gettext_lazy

BASE_DIR = Path(__file__).resolve().parent.parent.parent


def env(name: str, default: str = "") -> str:
    return os.environ.get(name, default)


def env_bool(name: str, default: bool = False) -> bool:
    return env(name, "1" if default else "0").strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in env(name, default).split(",") if item.strip()]


def redis_url_with_db(url: str, db: int) -> str:
    return urlunsplit(urlsplit(url)._replace(path=f"/{db}"))


SECRET_KEY = env("DJANGO_SECRET_KEY", "dev-only-insecure-key-change-me")
DEBUG = env_bool("DJANGO_DEBUG", False)

# The tenant resolver validates every Host against the registered tenants and
# domains before anything else runs, so Django's own host check is redundant.
ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS", "*")

SHARED_APPS = [
    # apps.tenancy first: its create_tenant command replaces django-tenants' own.
    "apps.tenancy",
    "django_tenants",
    "apps.core",
    "apps.events",
    "django.contrib.contenttypes",
    "django.contrib.auth",
    "django.contrib.sessions",
    "django.contrib.messages",
    "apps.tenancy.admin_config.TenantAdminConfig",
    "django.contrib.staticfiles",
    "csp",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    # Tenant feature flags; its tables also exist (empty) in public because its
    # many-to-many to User must be there when an operator is deleted.
    "waffle",
]

TENANT_APPS = [
    "django.contrib.contenttypes",
    "django.contrib.auth",
    "django.contrib.sessions",
    "django.contrib.messages",
    "apps.tenancy.admin_config.TenantAdminConfig",
    "waffle",
    "apps.events.ledger",
    "apps.people",
    "apps.content",
    "apps.commerce",
    "apps.webhooks",
    "apps.blog",
    "apps.pages",
    "apps.forum",
    "apps.index",
    "apps.storefront",
    # Its one table: the stored answers of idempotent POSTs (apps.api.idempotency).
    "apps.api",
]

INSTALLED_APPS = list(SHARED_APPS) + [app for app in TENANT_APPS if app not in SHARED_APPS]

TENANT_MODEL = "tenancy.Tenant"
TENANT_DOMAIN_MODEL = "tenancy.Domain"
# Issue SET search_path once per schema switch instead of once per cursor.
TENANT_LIMIT_SET_CALLS = True
PUBLIC_SCHEMA_URLCONF = "config.urls_public"
ROOT_URLCONF = "config.urls_tenant"

# Tenant resolution (apps.tenancy.resolver).
TENANT_BASE_DOMAIN = env("TENANT_BASE_DOMAIN", "localhost")
# Hosts served by the public schema (platform page and operators' admin).
TENANT_PUBLIC_HOSTS = env_list("TENANT_PUBLIC_HOSTS", "localhost,127.0.0.1,[::1]")
# Which identifiers the resolver accepts, in order: header, subdomain, domain.
TENANT_RESOLUTION_MODES = env_list("TENANT_RESOLUTION_MODES", "subdomain,domain")
TENANT_HEADER = env("TENANT_HEADER", "X-Tenant")
TENANT_CACHE_POSITIVE_TTL = int(env("TENANT_CACHE_POSITIVE_TTL", "300"))
TENANT_CACHE_NEGATIVE_TTL = int(env("TENANT_CACHE_NEGATIVE_TTL", "60"))
TENANT_CACHE_LOCAL_MAXSIZE = int(env("TENANT_CACHE_LOCAL_MAXSIZE", "10000"))
TENANT_INVALIDATION_CHANNEL = env("TENANT_INVALIDATION_CHANNEL", "tenancy:invalidate")
# The migrated schema new tenants are copied from (apps.tenancy.template). It has no
# Tenant row; its name starts with "_", which no tenant's schema can.
TENANT_TEMPLATE_SCHEMA = env("TENANT_TEMPLATE_SCHEMA", "_template")
# Copies of the template kept ready (apps.tenancy.spares): a new tenant renames one instead
# of waiting for a copy. Each holds a tenant's empty tables and indexes; 0 turns the pool off.
TENANT_SPARE_SCHEMAS = int(env("TENANT_SPARE_SCHEMAS", "3"))
# Processes that migrate_tenants runs at once, one database connection each (plus one for
# the command itself): about one per database core.
TENANT_MIGRATE_WORKERS = int(env("TENANT_MIGRATE_WORKERS", "2"))
# Schemas whose migration state one query of migrate_tenants reads: each read table stays
# locked until the query ends, and PostgreSQL's lock table is shared and bounded.
TENANT_MIGRATE_FIND_BATCH = int(env("TENANT_MIGRATE_FIND_BATCH", "1000"))

MIDDLEWARE = [
    # Outermost, so that every response has the security headers: the resolver's own
    # 400/403/404 pages, /health/*, static files and /metrics as well as the sites.
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "django_permissions_policy.PermissionsPolicyMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Static files need no tenant: served before the resolver runs.
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "apps.core.health.HealthMiddleware",
    # Requests by route, method and status, and their latency (the probes above are not
    # counted); before the tenant resolver, so its 400/404s are counted as "unmatched".
    "apps.core.metrics.RequestMetricsMiddleware",
    # A database outage further in: 503 with Retry-After, never a 500 page.
    "apps.core.unavailable.DatabaseUnavailableMiddleware",
    "apps.core.context.RequestContextMiddleware",
    "apps.core.logs.LogContextMiddleware",  # the request's ids in every log line
    "apps.tenancy.middleware.TenantResolverMiddleware",
    "apps.events.backpressure.BackpressureMiddleware",
    # Modules a tenant turned off (404) or in read-only or disabled mode (503).
    "apps.tenancy.middleware.ModuleGateMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    # Sets the cookies that keep a visitor's percentage-rollout draw of a feature flag.
    "waffle.middleware.WaffleMiddleware",
    # The interface language: the storefront's locale rule, the admin's own negotiation.
    "apps.storefront.middleware.ReaderLocaleMiddleware",
    # RateLimit-* headers of the API's answers, from its throttles' counts.
    "apps.api.throttling.RateLimitHeadersMiddleware",
]

# Content Security Policy (django-csp): scripts only from this site; inline styles are
# allowed (the admin's and the error pages' own), nothing may frame the site.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF, UNSAFE_INLINE],
        "img-src": [SELF, "data:"],
        "font-src": [SELF, "data:"],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    }
}
# Permissions-Policy (django-permissions-policy): no powerful feature for anyone.
PERMISSIONS_POLICY = {
    feature: []
    for feature in (
        "accelerometer", "autoplay", "camera", "display-capture", "encrypted-media",
        "geolocation", "gyroscope", "magnetometer", "microphone", "midi", "payment",
        "publickey-credentials-get", "screen-wake-lock", "usb", "xr-spatial-tracking",
    )
}  # fmt: skip
X_FRAME_OPTIONS = "DENY"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "apps.tenancy.context_processors.tenant",
                # After Django's csrf: a page rendered to be cached holds no visitor's token.
                "apps.storefront.personal.shell_context",
            ],
        },
    },
]

WSGI_APPLICATION = "config.wsgi.application"
ASGI_APPLICATION = "config.asgi.application"

DATABASE_URL = env("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/platform")
DATABASES = {
    "default": dj_database_url.parse(
        DATABASE_URL,
        engine="django_tenants.postgresql_backend",
        conn_max_age=int(env("DB_CONN_MAX_AGE", "60")),
        conn_health_checks=True,
    )
}
DATABASE_ROUTERS = ("django_tenants.routers.TenantSyncRouter",)

REDIS_URL = env("REDIS_URL", "redis://127.0.0.1:6379/0")
_REDIS_OPTIONS = {
    # Fail fast when Redis is away: the circuit breakers take over from there.
    "socket_connect_timeout": float(env("REDIS_CONNECT_TIMEOUT", "0.25")),
    "socket_timeout": float(env("REDIS_SOCKET_TIMEOUT", "0.5")),
}
CACHES = {
    "default": {
        "BACKEND": "apps.core.cache.RedisCache",
        "LOCATION": REDIS_URL,
        # Every key is prefixed with the active schema: tenants never share entries.
        "KEY_FUNCTION": "django_tenants.cache.make_key",
        "REVERSE_KEY_FUNCTION": "django_tenants.cache.reverse_key",
        "OPTIONS": _REDIS_OPTIONS,
    },
    # django-waffle's flags, switches and samples (WAFFLE_CACHE_NAME): the same Redis and key
    # function (one tenant's flag never answers for another), behind the Redis breaker, so
    # that with Redis away flags are read from the database instead of failing the request.
    # Waffle deletes a flag's keys when it changes (every process reads the shared Redis);
    # the timeout bounds how long a change made while Redis was away can go unseen.
    "flags": {
        "BACKEND": "apps.core.cache.GuardedRedisCache",
        "LOCATION": REDIS_URL,
        "KEY_FUNCTION": "django_tenants.cache.make_key",
        "REVERSE_KEY_FUNCTION": "django_tenants.cache.reverse_key",
        "OPTIONS": _REDIS_OPTIONS,
        "TIMEOUT": int(env("WAFFLE_CACHE_SECONDS", "300")),
    },
    # Storefront pages (apps.storefront.page_cache). The same Redis unless PAGE_CACHE_REDIS_URL
    # names another: many tenants' pages are best kept in a Redis of their own with a
    # maxmemory and allkeys-lru, away from the broker's queues, which must never be evicted.
    # (The generations that purge them stay in the default cache.)
    "pages": {
        "BACKEND": "apps.core.cache.RedisCache",
        "LOCATION": env("PAGE_CACHE_REDIS_URL", REDIS_URL),
        "KEY_FUNCTION": "django_tenants.cache.make_key",
        "REVERSE_KEY_FUNCTION": "django_tenants.cache.reverse_key",
        "OPTIONS": _REDIS_OPTIONS,
    },
}

# Storefront pages (home, blog, posts, shop listing, products) are cached whole this long
# (apps.storefront.page_cache), their personal parts filled per request; events purge them
# as soon as what they show changes, so this only bounds a purge lost with Redis. 0: off.
STOREFRONT_PAGE_CACHE_SECONDS = int(env("STOREFRONT_PAGE_CACHE_SECONDS", "300"))

# Sessions live in each tenant's own schema: a cookie from one tenant is
# meaningless on another.
SESSION_ENGINE = "django.contrib.sessions.backends.db"
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en"
# Lazy: the tenants' admin shows the names in the operator's language.
LANGUAGES = [
    ("en", gettext_lazy("English")),
    ("de", gettext_lazy("German")),
    ("fr", gettext_lazy("French")),
    ("ru", gettext_lazy("Russian")),
]
TIME_ZONE = "UTC"
USE_I18N = True
# The project's own interface strings (``make install`` compiles them).
LOCALE_PATHS = [BASE_DIR / "locale"]
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_URL = "/media/"
MEDIA_ROOT = Path(env("MEDIA_ROOT", str(BASE_DIR / "media")))
# Keep uploaded files of each tenant apart.
STORAGES = {
    "default": {"BACKEND": "django_tenants.files.storage.TenantFileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
# WhiteNoise serves static files: in production from STATIC_ROOT (collectstatic, with
# compressed, hashed names); elsewhere straight from the apps' and project's folders.
WHITENOISE_USE_FINDERS = True
# Files every site has at its root (/favicon.ico), served by WhiteNoise as they are.
WHITENOISE_ROOT = BASE_DIR / "static" / "root"
MULTITENANT_RELATIVE_MEDIA_ROOT = "%s"
# Django serves uploaded files itself only where nothing else does (`make run`).
SERVE_MEDIA = env_bool("SERVE_MEDIA", False)

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# The API: every DRF view lives in apps.api. Staff sessions for now, API keys later.
REST_FRAMEWORK = {
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": [
        "apps.api.parsers.BoundedJSONParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    # A bearer API key first (its scheme answers 401 with a challenge), the staff's session after.
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "apps.api.authentication.ApiKeyAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["apps.api.permissions.StaffModelPermissions"],
    "DEFAULT_PAGINATION_CLASS": "apps.api.pagination.CursorPagination",
    "PAGE_SIZE": 20,
    "DEFAULT_FILTER_BACKENDS": [
        "django_filters.rest_framework.DjangoFilterBackend",
        "apps.api.filters.StableOrderingFilter",
    ],
    # Per client and per tenant, per minute (API_THROTTLE_RATES, the tenant's own limits).
    "DEFAULT_THROTTLE_CLASSES": [
        "apps.api.throttling.ClientRateThrottle",
        "apps.api.throttling.TenantRateThrottle",
    ],
    "DEFAULT_METADATA_CLASS": "apps.api.metadata.EndpointMetadata",
    "EXCEPTION_HANDLER": "apps.api.exceptions.exception_handler",
    "DEFAULT_SCHEMA_CLASS": "apps.api.schema.AutoSchema",
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
}

# OpenAPI 3 at /api/v1/schema/, Swagger UI at /api/v1/docs/, its files served from the
# installed drf-spectacular-sidecar package. The split view serves its start-up script
# as a file of its own, so the Content Security Policy needs no inline script.
SPECTACULAR_SETTINGS = {
    "TITLE": "Platform content API",
    "VERSION": "1.0.0",
    "SCHEMA_PATH_PREFIX": r"/api/v[0-9]+",
    # Swagger UI's files come from the installed sidecar package, not from a CDN.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    # Choice sets that share a field name or their values across modules, named once.
    "ENUM_NAME_OVERRIDES": {
        "ProductStatusEnum": "apps.commerce.models.ProductStatus",
        "BodyFormatEnum": "apps.content.models.BodyFormat",
        "StatusEnum": "apps.content.models.NodeStatus",
        "OrderStatusEnum": "apps.commerce.models.OrderStatus",
        "PaymentStatusEnum": "apps.commerce.models.PaymentStatus",
        "ReasonEnum": "apps.commerce.models.AdjustmentReason",
        "TopicStatusEnum": "apps.forum.models.TopicStatus",
        "ForumReviewEnum": "apps.forum.models.Review",
        "FlagReasonEnum": "apps.forum.models.FlagReason",
    },
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "apps.api.schema.describe",
    ],
}

# Where the API's deprecation policy is read (the Link of Deprecation headers); a path is
# made absolute on the request's host. docs/api-deprecation.md is its source.
API_DEPRECATION_POLICY_URL = env("API_DEPRECATION_POLICY_URL", "/api/v1/docs/")

# API requests per minute, counted in the shared cache (apps.api.throttling): per client (an
# API key, else a staff user, else an address) and per tenant. A tenant's own limits
# (operators' admin) replace these; 0 switches a limit off.
API_THROTTLE_RATES = {
    "client": int(env("API_THROTTLE_CLIENT_PER_MINUTE", "600")),
    "tenant": int(env("API_THROTTLE_TENANT_PER_MINUTE", "3000")),
}

# Celery: the broker only carries wake-ups and jobs; tasks that touch tenant
# data carry their tenant explicitly (apps.tenancy.tasks.TenantTask).
CELERY_BROKER_URL = env("CELERY_BROKER_URL", REDIS_URL)
CELERY_RESULT_BACKEND = None
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 3600}
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# Workers and beat look for a lost broker again at least this often, for as long as it is
# away (config.celery): the relay resumes within seconds of its return.
CELERY_WORKER_CONSUMER = "config.celery:PromptReconnectConsumer"
CELERY_BEAT_SCHEDULER = "config.celery:PromptReconnectScheduler"
BROKER_RECONNECT_MAX_SECONDS = float(env("BROKER_RECONNECT_MAX_SECONDS", "1"))
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TIMEZONE = TIME_ZONE
# Webhook requests wait on other people's servers: their own queue and worker process
# (Procfile's webhook-worker), so a slow receiver never holds the relay.
CELERY_TASK_ROUTES = {"webhooks.deliver": {"queue": "webhooks"}}
CELERY_BEAT_SCHEDULE = {
    "webhooks-sweep": {
        "task": "webhooks.sweep",
        "schedule": float(env("WEBHOOKS_SWEEP_SECONDS", "30")),
    },
    "webhooks-prune": {"task": "webhooks.prune", "schedule": 3600.0},
    "events-sweep": {"task": "events.sweep", "schedule": float(env("EVENTS_SWEEP_SECONDS", "5"))},
    "events-prune": {"task": "events.prune", "schedule": 3600.0},
    "content-publish-due": {"task": "content.publish_due", "schedule": 60.0},
    "forum-flush-views": {"task": "forum.flush_views", "schedule": 60.0},
    "commerce-expire-reservations": {"task": "commerce.expire_reservations", "schedule": 60.0},
    "commerce-prune-stale-carts": {"task": "commerce.prune_stale_carts", "schedule": 3600.0},
    "commerce-retry-order-emails": {"task": "commerce.retry_order_emails", "schedule": 60.0},
    "commerce-reconcile-payments": {"task": "commerce.reconcile_payments", "schedule": 60.0},
    "api-prune-idempotent-responses": {
        "task": "api.prune_idempotent_responses",
        "schedule": 3600.0,
    },
    "tenancy-refill-spares": {
        "task": "tenancy.refill_spares",
        "schedule": float(env("TENANT_SPARES_REFILL_SECONDS", "30")),
    },
}

# Web and pool processes collect their youngest generation of objects every this many
# allocations (Python's default is 700) and freeze what they built at start-up
# (apps.core.gc_tuning); 0 keeps Python's defaults.
GC_GEN0_THRESHOLD = int(env("GC_GEN0_THRESHOLD", "10000"))

# The event backbone (apps.events).
EVENTS = {
    "BATCH_SIZE": int(env("EVENTS_BATCH_SIZE", "500")),
    # While a backlog lasts, a drain's claims double up to this (apps.events.relay
    # .next_claim_size); at most BATCH_SIZE means they never grow.
    "MAX_BATCH_SIZE": int(env("EVENTS_MAX_BATCH_SIZE", "2000")),
    "LEASE_SECONDS": float(env("EVENTS_LEASE_SECONDS", "60")),
    "MAX_ATTEMPTS": int(env("EVENTS_MAX_ATTEMPTS", "8")),
    "RETRY_BASE_SECONDS": float(env("EVENTS_RETRY_BASE_SECONDS", "1")),
    "RETRY_MAX_SECONDS": float(env("EVENTS_RETRY_MAX_SECONDS", "300")),
    "DRAIN_TIME_BUDGET_SECONDS": float(env("EVENTS_DRAIN_TIME_BUDGET_SECONDS", "20")),
    "WAKEUP_COALESCE_SECONDS": int(env("EVENTS_WAKEUP_COALESCE_SECONDS", "2")),
    # Subscribers with a batch function (the projections) take a batch's events at once;
    # off: event by event, as every other subscriber (apps.events.relay._run_all).
    "BATCH_HANDLERS": env_bool("EVENTS_BATCH_HANDLERS", True),
    # A process's wake-ups are at least this far apart (apps.events.wakeup._Sender).
    "WAKEUP_MIN_INTERVAL_SECONDS": float(env("EVENTS_WAKEUP_MIN_INTERVAL_SECONDS", "0.005")),
    "RETENTION_DAYS": int(env("EVENTS_RETENTION_DAYS", "30")),
    "BACKLOG_HIGH_WATER": int(env("EVENTS_BACKLOG_HIGH_WATER", "100000")),
    "OLDEST_AGE_HIGH_WATER_SECONDS": float(env("EVENTS_OLDEST_AGE_HIGH_WATER_SECONDS", "600")),
    # Readiness reports the outbox degraded once its oldest pending event is older than this.
    "READY_LAG_SECONDS": float(env("EVENTS_READY_LAG_SECONDS", "30")),
    "BACKPRESSURE_CHECK_SECONDS": float(env("EVENTS_BACKPRESSURE_CHECK_SECONDS", "1")),
    "EXPECTED_DRAIN_RATE": int(env("EVENTS_EXPECTED_DRAIN_RATE", "2000")),
    # Writes that never produce events and must work even under backpressure.
    "BACKPRESSURE_EXEMPT_PATHS": (
        "/admin/login/",
        "/admin/logout/",
        "/account/login/",
        "/account/logout/",
    ),
}
# Webhooks (apps.webhooks): Standard Webhooks signatures, retried for about a day.
WEBHOOKS = {
    "CONNECT_TIMEOUT_SECONDS": float(env("WEBHOOKS_CONNECT_TIMEOUT_SECONDS", "3")),
    "READ_TIMEOUT_SECONDS": float(env("WEBHOOKS_READ_TIMEOUT_SECONDS", "10")),
    "USER_AGENT": env("WEBHOOKS_USER_AGENT", "PlatformWebhooks/1.0"),
    # Certificates of the authorities receivers' certificates must chain to (a file); empty:
    # the system's.
    "CA_BUNDLE": env("WEBHOOKS_CA_BUNDLE"),
    # Delays before the 2nd, 3rd, ... attempt; after the last one the delivery has failed.
    "RETRY_SCHEDULE_SECONDS": (5, 30, 120, 600, 3600, 3 * 3600, 6 * 3600, 12 * 3600),
    "RETRY_JITTER": 0.2,
    # Deliveries sent at once to an endpoint whose last attempts failed, by all workers
    # together: a receiver that hangs holds this many workers, never all. A delivery that
    # finds no free slot waits out the timeouts of the send that holds it. Healthy endpoints
    # have no such limit.
    "FAILING_ENDPOINT_CONCURRENCY": int(env("WEBHOOKS_FAILING_ENDPOINT_CONCURRENCY", "1")),
    # A sender holds a delivery this long; past it, the delivery is due again.
    "LEASE_SECONDS": float(env("WEBHOOKS_LEASE_SECONDS", "60")),
    # Retries due within this are sent by a countdown task; later ones by the sweep.
    "COUNTDOWN_MAX_SECONDS": 600,
    "SWEEP_GRACE_SECONDS": float(env("WEBHOOKS_SWEEP_GRACE_SECONDS", "30")),
    # After a secret's rotation the old one signs too for this long.
    "ROTATION_OVERLAP_SECONDS": float(env("WEBHOOKS_ROTATION_OVERLAP_SECONDS", str(24 * 3600))),
    # Deliveries (and their attempts) are kept this long, then pruned.
    "RETENTION_DAYS": int(env("WEBHOOKS_RETENTION_DAYS", "30")),
    # The breaker: this many failed attempts in a row, or failures only for this long.
    "BREAKER_FAILURES": int(env("WEBHOOKS_BREAKER_FAILURES", "20")),
    "BREAKER_FAILING_SECONDS": float(env("WEBHOOKS_BREAKER_FAILING_SECONDS", str(24 * 3600))),
}
# SSRF protection: webhooks go to https URLs of public addresses, unless the operator
# allows plain http or private addresses (development, tests, a private installation).
WEBHOOKS_ALLOW_HTTP = env_bool("WEBHOOKS_ALLOW_HTTP", False)
WEBHOOKS_ALLOW_PRIVATE_ADDRESSES = env_bool("WEBHOOKS_ALLOW_PRIVATE_ADDRESSES", False)

# apps.core.error_policy: the payments' and scheduled jobs' retries (the relay's are in
# EVENTS, the webhooks' in WEBHOOKS). A card gateway's 5xx or refused connection is tried
# again in the shopper's request, with the same idempotency key; a beat task that raised is
# sent again with Celery's countdown, then counted in scheduled_job_failures_total.
ERROR_POLICIES = {
    "payments": {
        "MAX_ATTEMPTS": int(env("PAYMENT_RETRY_ATTEMPTS", "2")),
        "BASE_DELAY_SECONDS": float(env("PAYMENT_RETRY_BASE_SECONDS", "0.2")),
        "MAX_DELAY_SECONDS": float(env("PAYMENT_RETRY_MAX_SECONDS", "1")),
    },
    "jobs": {
        "MAX_ATTEMPTS": int(env("JOBS_RETRY_ATTEMPTS", "4")),
        "BASE_DELAY_SECONDS": float(env("JOBS_RETRY_BASE_SECONDS", "30")),
        "MAX_DELAY_SECONDS": float(env("JOBS_RETRY_MAX_SECONDS", "600")),
        "JITTER": 0.25,
    },
}

# /metrics (public domain only) asks for "Authorization: Bearer <token>" when set.
METRICS_TOKEN = env("METRICS_TOKEN")

# Extra modules declaring events and subscribers (benchmarks load theirs this way).
EVENTS_EXTRA_MODULES = env_list("EVENTS_EXTRA_MODULES")

# Feature flags (django-waffle, apps.core.flags): each tenant's in its own schema, set by its
# administrators in its admin. A flag nobody created is off, and is not created by asking.
WAFFLE_CREATE_MISSING_FLAGS = False
WAFFLE_CACHE_NAME = "flags"
# The percentage rollout's cookie (dwf_<flag>): secure where the session's is (prod.py).
WAFFLE_SECURE = False

# How long the checkout's payment step holds the cart's stock.
CHECKOUT_RESERVATION_MINUTES = int(env("CHECKOUT_RESERVATION_MINUTES", "15"))

# Payments (apps.commerce.payments). The providers a deployment offers, by code: dev and
# tests add the test card gateway; production (config/settings/prod.py) offers only manual
# bank transfers unless PAYMENT_PROVIDERS enables more on purpose.
PAYMENT_PROVIDERS = env_list("PAYMENT_PROVIDERS", "manual,test_card")
# The fake card gateway (python -m apps.commerce.payments.fake_gateway), for dev and tests.
TEST_CARD_GATEWAY_URL = env("TEST_CARD_GATEWAY_URL", "http://127.0.0.1:8090")
TEST_CARD_GATEWAY_TIMEOUT = float(env("TEST_CARD_GATEWAY_TIMEOUT", "5"))
TEST_CARD_BREAKER_FAIL_MAX = int(env("TEST_CARD_BREAKER_FAIL_MAX", "3"))
TEST_CARD_BREAKER_RESET_SECONDS = float(env("TEST_CARD_BREAKER_RESET_SECONDS", "60"))
# An attempt still "processing" after this long was abandoned: the next call retries it.
PAYMENT_ATTEMPT_STALE_SECONDS = float(env("PAYMENT_ATTEMPT_STALE_SECONDS", "60"))
# A card charge still unsettled this long after its last change (no answer came: a timeout,
# an outage, a crash) for a checkout without an order is looked up at the provider by
# commerce.reconcile_payments; found approved, it is refunded.
PAYMENT_RECONCILE_AFTER_SECONDS = float(env("PAYMENT_RECONCILE_AFTER_SECONDS", str(15 * 60)))
# Where shoppers who pay by bank transfer send the money.
PAYMENT_MANUAL_BANK_DETAILS = {
    "account_holder": env("PAYMENT_BANK_ACCOUNT_HOLDER", "Demo Shop Ltd"),
    "iban": env("PAYMENT_BANK_IBAN", "DE89 3704 0044 0532 0130 00"),
    "bic": env("PAYMENT_BANK_BIC", "COBADEFFXXX"),
    "bank": env("PAYMENT_BANK_NAME", "Demo Bank"),
}

# Routine Celery runs that did nothing (the 5 s sweep) stay out of the log (config/celery.py).
LOG_ROUTINE_TASKS = env_bool("LOG_ROUTINE_TASKS", False)

# Logs (apps.core.logs): "plain" lines, or "json" objects (production's default), each with
# the tenant, request, correlation, trace and user ids; emails and secrets masked either way.
LOG_FORMAT = env("LOG_FORMAT", "plain")


def logging_config(log_format: str) -> dict:
    if log_format not in {"plain", "json"}:
        raise RuntimeError(f"LOG_FORMAT must be 'plain' or 'json', not {log_format!r}")
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {
            "context": {"()": "apps.core.logs.ContextFilter"},
            "redact": {"()": "apps.core.logs.RedactFilter"},
        },
        "formatters": {
            "plain": {
                "()": "apps.core.logs.PlainFormatter",
                "fmt": "%(asctime)s %(levelname)s %(name)s %(message)s",
            },
            "json": {"()": "apps.core.logs.JsonFormatter"},
        },
        "handlers": {
            "console": {
                "class": "logging.StreamHandler",
                "formatter": log_format,
                "filters": ["context", "redact"],
            }
        },
        "root": {"handlers": ["console"], "level": env("LOG_LEVEL", "INFO")},
        "loggers": {"django.db.backends": {"level": "WARNING"}},
    }


LOGGING = logging_config(LOG_FORMAT)

# Traces (apps.core.telemetry): OpenTelemetry, exported by OTLP (http/protobuf) when the
# standard OTEL_EXPORTER_OTLP_ENDPOINT is set, printed when OTEL_CONSOLE is on; off with
# neither (or with OTEL_ENABLED=0). Processes are named "<OTEL_SERVICE_NAME>-web" and "-worker".
OTEL_CONSOLE = env_bool("OTEL_CONSOLE", False)
OTEL_ENABLED = env_bool(
    "OTEL_ENABLED",
    bool(
        OTEL_CONSOLE
        or env("OTEL_EXPORTER_OTLP_ENDPOINT")
        or env("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")
    ),
)
OTEL_SERVICE_NAME = env("OTEL_SERVICE_NAME", "platform")

# Fixed-window limits (apps.core.rate_limits): "count/period", period s, m, h or d.
RATE_LIMITS = {
    # Storefront logins: per account and address, and per address whatever the account.
    "login_account": env("RATE_LIMIT_LOGIN_ACCOUNT", "5/m"),
    "login_ip": env("RATE_LIMIT_LOGIN_IP", "30/m"),
    "sign_up_ip": env("RATE_LIMIT_SIGN_UP_IP", "10/h"),
    "password_reset_ip": env("RATE_LIMIT_PASSWORD_RESET_IP", "10/h"),
    # The checkout's POSTs per address, and its payments (card testing) on top.
    "checkout_ip": env("RATE_LIMIT_CHECKOUT_IP", "60/m"),
    "checkout_pay_ip": env("RATE_LIMIT_CHECKOUT_PAY_IP", "20/h"),
    # Forum posts (topics and replies) and reports per member, storefront and API alike.
    "forum_post_user": env("RATE_LIMIT_FORUM_POST_USER", "6/m"),
    "forum_flag_user": env("RATE_LIMIT_FORUM_FLAG_USER", "20/h"),
}
# The port links in emails name after the tenant's host ("" for the scheme's own): `make run`
# serves on a port of its own.
SITE_URL_PORT = env("SITE_URL_PORT", "")

# The forum: how long authors may edit their own posts.
FORUM = {
    "EDIT_WINDOW_SECONDS": int(env("FORUM_EDIT_WINDOW_SECONDS", str(30 * 60))),
}
RATELIMIT_CACHE_PREFIX = "rl:"

# Email (password resets, order confirmations, shipping notices) by SMTP; development and
# `make run` print it instead. The sender's address is the platform's; each shop's emails
# carry the shop's name in front of it.
EMAIL_BACKEND = env("EMAIL_BACKEND", "django.core.mail.backends.smtp.EmailBackend")
EMAIL_HOST = env("EMAIL_HOST", "localhost")
EMAIL_PORT = int(env("EMAIL_PORT", "25"))
EMAIL_HOST_USER = env("EMAIL_HOST_USER")
EMAIL_HOST_PASSWORD = env("EMAIL_HOST_PASSWORD")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
EMAIL_TIMEOUT = 10
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", "shop@localhost")
# Order emails (apps.commerce.order_emails): after a failed attempt, the next waits the next of
# these steps (seconds); after the last, a merchant sends it again. An attempt that never
# answered (its worker died with the message at the mail server) is tried again after
# ORDER_EMAIL_HANDOVER_SECONDS.
ORDER_EMAIL_RETRY_SECONDS = (60, 300, 1800, 3 * 3600, 12 * 3600)
ORDER_EMAIL_HANDOVER_SECONDS = int(env("ORDER_EMAIL_HANDOVER_SECONDS", "600"))
