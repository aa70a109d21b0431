"""Settings, read once from the environment (12-factor).

PostgreSQL everywhere: DATABASE_URL is required. `make demo` starts an embedded PostgreSQL
server under var/ and sets it, and uses Kombu's filesystem broker, so the demo needs nothing but
Python installed; production and the test suite point DATABASE_URL, CELERY_BROKER_URL and
REDIS_URL at their PostgreSQL and Redis.
"""

import ipaddress
from pathlib import Path

import environ
import structlog
from celery.schedules import crontab
from csp import constants as csp_constants
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(environ.Env().str("VAR_DIR", default=str(BASE_DIR / "var")))
VAR_DIR.mkdir(parents=True, exist_ok=True)

env = environ.Env()

INSECURE_DEFAULT_SECRET_KEY = "insecure-development-key-do-not-use-in-production"  # noqa: S105

DEBUG = env.bool("DEBUG", default=False)
SECRET_KEY = env.str("SECRET_KEY", default=INSECURE_DEFAULT_SECRET_KEY)
if not DEBUG and SECRET_KEY == INSECURE_DEFAULT_SECRET_KEY:
    raise ImproperlyConfigured(
        "SECRET_KEY is not set: production (DEBUG=false) refuses the insecure default key. "
        "Set SECRET_KEY to a long random value."
    )
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]", "testserver"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    # Django's admin, signed in to through the service's sign-in page (config/admin_site.py).
    "config.admin_site.BackOfficeAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django.contrib.postgres",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "crispy_forms",
    "crispy_forms_gds",
    "csp",
    "django_prometheus",
    "django_structlog",
    "core",
    "organisations",
    "lots",
    "providers",
    "quality",
    "placements",
    "bidding",
    "blockbeds",
    "dashboards",
    "integrations",
    "contracts",
    "closures",
    "fairness",
    "loadgen",
    # Demo data for every app (`manage.py seed_demo`); on top of the layers, it may use any app.
    "demo",
]

MIDDLEWARE = [
    # First: when the request was received, which decides a bid at its deadline (core.clock).
    "core.clock.ReceiptTimeMiddleware",
    # Request counts and latency by view for /metrics; its partner is last in the chain.
    "django_prometheus.middleware.PrometheusBeforeMiddleware",
    # A request id (X-Request-ID when the proxy sends one) on every log line, carried into tasks.
    "core.request_log.RequestLogMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "django_permissions_policy.PermissionsPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # RateLimit-Limit/-Remaining/-Reset on every API response, replayed and refused ones included.
    "integrations.middleware.ApiRateLimitHeadersMiddleware",
    "integrations.middleware.IdempotencyKeyMiddleware",
    "integrations.middleware.ApiETagMiddleware",
    "integrations.middleware.ApiNotFoundMiddleware",
    # PostgreSQL or Redis unreachable: a 503 in the interface's terms (problem details or a page).
    "core.middleware.ServiceUnavailableMiddleware",
    # A service's NotFoundError or ForbiddenError: the 404 or 403 page.
    "core.middleware.AccessErrorMiddleware",
    # With DEBUG on and TECHNICAL_ERROR_PAGES off (the demo): the styled 404 and 500 pages.
    "core.error_pages.StyledErrorPagesMiddleware",
    "django_prometheus.middleware.PrometheusAfterMiddleware",
]

# Error pages: with DEBUG on, Django shows its technical 404 (every URL pattern) and tracebacks.
# The demo turns this off to show the service's own 404 and 500 pages while keeping DEBUG's conveniences.
TECHNICAL_ERROR_PAGES = env.bool("TECHNICAL_ERROR_PAGES", default=DEBUG)

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

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
                "core.context_processors.service",
            ],
        },
    },
]

# One database engine everywhere, the demo included: PostgreSQL, and no default.
if not env.str("DATABASE_URL", default=""):
    if DEBUG:
        raise ImproperlyConfigured(
            "DATABASE_URL is not set. For the demo run `make demo`, which starts an embedded PostgreSQL "
            "server under var/ and sets DATABASE_URL; otherwise set it to a PostgreSQL database."
        )
    raise ImproperlyConfigured(
        "DATABASE_URL is not set: production (DEBUG=false) needs it to name a PostgreSQL database, "
        "for example postgres://user:password@host:5432/carehomes."
    )
DATABASES = {"default": env.db("DATABASE_URL")}
if DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql":
    raise ImproperlyConfigured("DATABASE_URL must name a PostgreSQL database (postgres://...).")
DATABASES["default"]["ATOMIC_REQUESTS"] = False
# A session left idle inside a transaction (say its worker was killed while it waited on a
# lock) holds its locks until PostgreSQL ends it; 0 switches this off.
IDLE_IN_TRANSACTION_SECONDS = env.int("DATABASE_IDLE_IN_TRANSACTION_TIMEOUT", default=60)
if IDLE_IN_TRANSACTION_SECONDS < 0:
    raise ImproperlyConfigured("DATABASE_IDLE_IN_TRANSACTION_TIMEOUT must be 0 or a number of seconds.")
# Statement timeouts (seconds; 0 switches one off). A web request's statements are cut off after
# DATABASE_STATEMENT_TIMEOUT, so one costly query cannot hold a web worker for long; gunicorn's
# --timeout (Dockerfile, docker-compose.yml) is a little longer, and the request is answered 503
# (core.outages). Long jobs run statements for longer on purpose: the Celery worker
# (config/celery.py) and every management command but runserver (manage.py) switch their
# connections to DATABASE_TASK_STATEMENT_TIMEOUT before they open one
# (core.db.use_task_statement_timeout). The web timeout is the default, so a process nobody
# switched stays bounded.
DATABASE_STATEMENT_TIMEOUT = env.int("DATABASE_STATEMENT_TIMEOUT", default=5)
DATABASE_TASK_STATEMENT_TIMEOUT = env.int("DATABASE_TASK_STATEMENT_TIMEOUT", default=600)
if DATABASE_STATEMENT_TIMEOUT < 0:
    raise ImproperlyConfigured("DATABASE_STATEMENT_TIMEOUT must be 0 or a number of seconds.")
if DATABASE_TASK_STATEMENT_TIMEOUT < 0:
    raise ImproperlyConfigured("DATABASE_TASK_STATEMENT_TIMEOUT must be 0 or a number of seconds.")
DATABASES["default"].setdefault("OPTIONS", {})["options"] = (
    f"-c idle_in_transaction_session_timeout={IDLE_IN_TRANSACTION_SECONDS * 1000}"
    f" -c statement_timeout={DATABASE_STATEMENT_TIMEOUT * 1000}"
)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "organisations.User"
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-gb"
TIME_ZONE = "Europe/London"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [
    ("govuk", BASE_DIR / "node_modules/govuk-frontend/dist/govuk"),
    ("build", BASE_DIR / "static/build"),
    # The service's own small scripts (served from 'self', as the Content-Security-Policy requires).
    ("js", BASE_DIR / "static/js"),
    # The back office's stylesheet (templates/admin/base_site.html).
    ("css", BASE_DIR / "static/css"),
]
# Uploaded files (providers' compliance documents): private, served only through the views that check
# who may read them, never from a public URL.
MEDIA_ROOT = Path(env.str("MEDIA_ROOT", default=str(VAR_DIR / "media")))
COMPLIANCE_DOCUMENT_MAX_BYTES = env.int("COMPLIANCE_DOCUMENT_MAX_BYTES", default=10 * 1024 * 1024)
if COMPLIANCE_DOCUMENT_MAX_BYTES < 1:
    raise ImproperlyConfigured("COMPLIANCE_DOCUMENT_MAX_BYTES must be a positive number of bytes.")
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedStaticFilesStorage"
        )
    },
}

REDIS_URL = env.str("REDIS_URL", default="")
if REDIS_URL:
    # A Redis that stops answering without refusing connections must fail a request quickly, not hang
    # it: the outage handling and the fail-open request budget then take over.
    CACHES = {
        "default": {
            # Django's Redis cache, keeping one client per connection pool (core/cache.py).
            "BACKEND": "core.cache.PooledRedisCache",
            "LOCATION": REDIS_URL,
            "OPTIONS": {"socket_connect_timeout": 2, "socket_timeout": 2},
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

EMAIL_BACKEND = env.str("EMAIL_BACKEND", default="django.core.mail.backends.console.EmailBackend")
EMAIL_HOST = env.str("EMAIL_HOST", default="localhost")
EMAIL_PORT = env.int("EMAIL_PORT", default=25)
EMAIL_HOST_USER = env.str("EMAIL_HOST_USER", default="")
EMAIL_HOST_PASSWORD = env.str("EMAIL_HOST_PASSWORD", default="")
EMAIL_USE_TLS = env.bool("EMAIL_USE_TLS", default=False)
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="placements@example.org")

SERVICE_NAME = "Care home placements"
SITE_URL = env.str("SITE_URL", default="http://127.0.0.1:8000")

# Celery: the filesystem transport needs no server (demo); Redis everywhere else.
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default="filesystem://")
CELERY_FILESYSTEM_DIR = VAR_DIR / "celery"
if CELERY_BROKER_URL.startswith("filesystem://"):
    for folder in ("queue", "processed", "control"):
        (CELERY_FILESYSTEM_DIR / folder).mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(CELERY_FILESYSTEM_DIR / "queue"),
        "data_folder_out": str(CELERY_FILESYSTEM_DIR / "queue"),
        "processed_folder": str(CELERY_FILESYSTEM_DIR / "processed"),
        "store_processed": False,
        "control_folder": str(CELERY_FILESYSTEM_DIR / "control"),
    }
else:
    # An unacknowledged task from a worker that died goes back on the queue after this many seconds.
    CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": env.int("CELERY_VISIBILITY_TIMEOUT", default=3600)}
CELERY_RESULT_BACKEND = env.str("CELERY_RESULT_BACKEND", default="") or None
CELERY_TASK_IGNORE_RESULT = CELERY_RESULT_BACKEND is None
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_ALWAYS_EAGER = False
CELERY_TIMEZONE = "Europe/London"
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")
# A tender's close is queued for its deadline once the deadline is this near (beat looks every
# TENDER_CLOSE_QUEUE_EVERY_SECONDS); the worker holds it until then, which must stay well inside
# the broker's visibility timeout or the message is handed out again.
TENDER_CLOSE_QUEUE_AHEAD_SECONDS = min(
    env.int("TENDER_CLOSE_QUEUE_AHEAD_SECONDS", default=900),
    CELERY_BROKER_TRANSPORT_OPTIONS.get("visibility_timeout", 3600) // 2,
)
if TENDER_CLOSE_QUEUE_AHEAD_SECONDS < 1:
    raise ImproperlyConfigured(
        "TENDER_CLOSE_QUEUE_AHEAD_SECONDS must be 1 or more, and CELERY_VISIBILITY_TIMEOUT 2 or more."
    )
# A tender is closed this long after its deadline, so every bid received before the deadline
# (judged by its receipt time, core.clock) is decided first. It must be at least the longest a
# web request may take: gunicorn's --timeout (Dockerfile, docker-compose.yml) is 10 s and each
# statement is cut off after DATABASE_STATEMENT_TIMEOUT.
BID_RECEIPT_GRACE_SECONDS = env.int("BID_RECEIPT_GRACE_SECONDS", default=10)
if BID_RECEIPT_GRACE_SECONDS < 0:
    raise ImproperlyConfigured("BID_RECEIPT_GRACE_SECONDS must be 0 or a number of seconds.")
TENDER_CLOSE_QUEUE_EVERY_SECONDS = max(TENDER_CLOSE_QUEUE_AHEAD_SECONDS // 3, 1)
CELERY_BEAT_SCHEDULE: dict = {
    "tenders-close-overdue": {
        "task": "bidding.tasks.tenders_close_overdue_task",
        "schedule": 60.0,
    },
    "tenders-queue-closes": {
        "task": "bidding.tasks.tenders_queue_closes_task",
        "schedule": float(TENDER_CLOSE_QUEUE_EVERY_SECONDS),
    },
    "cqc-nightly-refresh": {
        "task": "quality.tasks.cqc_refresh_dps_homes",
        "schedule": crontab(hour=2, minute=30),
    },
}

# CQC: the public API (the nightly refresh is a no-op without a key) and vacancy freshness.
CQC_API_KEY = env.str("CQC_API_KEY", default="")
CQC_API_BASE_URL = env.str("CQC_API_BASE_URL", default="https://api.service.cqc.org.uk/public/v1")
VACANCY_STALE_DAYS = env.int("VACANCY_STALE_DAYS", default=7)

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "organisations.authentication.ApiClientAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_SCHEMA_CLASS": "core.api_schema.ApiSchema",
    "EXCEPTION_HANDLER": "core.api.exception_handler",
    "DEFAULT_PAGINATION_CLASS": "core.api.DefaultCursorPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_THROTTLE_CLASSES": ["integrations.throttling.ApiRateThrottle"],
    # Request bodies are JSON only: no page posts to the API, and a form or multipart body reads a
    # missing yes/no field as "no", so a generated client sending one would change what it meant.
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Care home placements API",
    "DESCRIPTION": "Placement requests, tenders, bids, awards and placements on a Dynamic Purchasing System.",
    "VERSION": "1.0.0",
    # Schema quality for integrators: OpenAPI 3.1 (nullable references stay typed, and a bearer
    # requirement may name the scope it needs), request and response components kept apart so a
    # generator sees which fields it sends, and where to reach the service and under what terms.
    "OAS_VERSION": "3.1.0",
    "COMPONENT_SPLIT_REQUEST": True,
    "SERVERS": [{"url": SITE_URL, "description": "This service"}],
    "CONTACT": {"name": "Placements service team", "email": DEFAULT_FROM_EMAIL},
    "LICENSE": {"name": "MIT", "identifier": "MIT"},
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # The API reference at /api/v1/docs/ (templates/drf_spectacular/swagger_ui.html): an operation's
    # summary is one button, with no deep link nested inside it (nested-interactive).
    "SWAGGER_UI_SETTINGS": {"deepLinking": False},
    "ENUM_NAME_OVERRIDES": {
        "RatingValueEnum": "quality.models.RatingValue.choices",
        "PlacementRequestStatusEnum": "placements.models.PlacementRequest.Status",
        "PlacementOutputSourceEnum": "placements.models.Placement.Source",
        "AssessmentOutcomeEnum": "placements.models.Placement.AssessmentOutcome",
        "BidStatusEnum": "bidding.models.Bid.Status",
        "WebhookDeliveryStatusEnum": "integrations.models.WebhookDelivery.Status",
        "AdmissionClosureReasonEnum": "providers.models.AdmissionClosure.Reason",
        "AbsenceKindEnum": "contracts.models.Absence.Kind",
        "ConcernKindEnum": "quality.models.Concern.Kind",
        "ConcernStatusEnum": "quality.models.Concern.Status",
        "ImprovementActionStatusEnum": "quality.models.ImprovementAction.Status",
        "ReturnMeasureKindEnum": "quality.models.ReturnMeasure.Kind",
    },
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "integrations.openapi.postprocess_problem_responses",
        # ETag/If-None-Match/304, If-Match/412, Idempotency-Key/422 and RateLimit headers on each operation.
        "core.api.postprocess_http_conventions",
        # The scope and roles each operation needs, read from its view's permission classes.
        "organisations.schema.postprocess_operation_access",
        "integrations.openapi.postprocess_openapi_31",
    ],
}

CRISPY_ALLOWED_TEMPLATE_PACKS = ["gds"]
CRISPY_TEMPLATE_PACK = "gds"

SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SECURE = env.bool("SECURE_COOKIES", default=not DEBUG)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=0 if DEBUG else 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = not DEBUG
SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=not DEBUG)
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=not DEBUG)
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
X_FRAME_OPTIONS = "DENY"

# Content Security Policy on every response: scripts and styles come from this site, or inline
# with the nonce the response's header names (templates use {{ request.csp_nonce }}), so an
# injected <script>, style or event handler does not run. Data URIs are images drawn by the
# API documentation's stylesheet.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [csp_constants.SELF],
        "script-src": [csp_constants.SELF, csp_constants.NONCE],
        "style-src": [csp_constants.SELF, csp_constants.NONCE],
        "img-src": [csp_constants.SELF, "data:"],
        "connect-src": [csp_constants.SELF],
        "object-src": [csp_constants.NONE],
        "base-uri": [csp_constants.NONE],
        "form-action": [csp_constants.SELF],
        "frame-ancestors": [csp_constants.NONE],
    }
}
# Browser features the service never uses are switched off for its pages and anything they embed.
PERMISSIONS_POLICY = {
    feature: []
    for feature in (
        "accelerometer",
        "bluetooth",
        "browsing-topics",
        "camera",
        "display-capture",
        "geolocation",
        "gyroscope",
        "hid",
        "idle-detection",
        "magnetometer",
        "microphone",
        "midi",
        "payment",
        "screen-wake-lock",
        "serial",
        "usb",
        "xr-spatial-tracking",
    )
}
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"

# Sign-in throttling (organisations/signin.py). An account (the e-mail address typed) may fail
# LOGIN_FAILURE_LIMIT times in a row; then it waits LOGIN_LOCKOUT_SECONDS, twice as long after each
# further failure, up to LOGIN_LOCKOUT_MAX_SECONDS, until someone signs in to it. A client address is
# blocked only after LOGIN_ADDRESS_FAILURE_LIMIT failures within LOGIN_ADDRESS_WINDOW_SECONDS, far more
# than one person makes, because a whole council may sign in from behind one proxy.
LOGIN_FAILURE_LIMIT = env.int("LOGIN_FAILURE_LIMIT", default=5)
LOGIN_LOCKOUT_SECONDS = env.int("LOGIN_LOCKOUT_SECONDS", default=60)
LOGIN_LOCKOUT_MAX_SECONDS = env.int("LOGIN_LOCKOUT_MAX_SECONDS", default=3600)
LOGIN_ADDRESS_FAILURE_LIMIT = env.int("LOGIN_ADDRESS_FAILURE_LIMIT", default=100)
LOGIN_ADDRESS_WINDOW_SECONDS = env.int("LOGIN_ADDRESS_WINDOW_SECONDS", default=900)
for _name in ("LOGIN_FAILURE_LIMIT", "LOGIN_LOCKOUT_SECONDS", "LOGIN_LOCKOUT_MAX_SECONDS"):
    if globals()[_name] < 1:
        raise ImproperlyConfigured(f"{_name} must be a whole number of 1 or more.")
if LOGIN_ADDRESS_FAILURE_LIMIT < 1:
    raise ImproperlyConfigured("LOGIN_ADDRESS_FAILURE_LIMIT must be a whole number of 1 or more.")
# Provider self-registration at /sign-up/: each client address may register this many times within
# the window, as the sign-in budget counts failures from one address.
SIGNUP_ADDRESS_LIMIT = env.int("SIGNUP_ADDRESS_LIMIT", default=10)
SIGNUP_ADDRESS_WINDOW_SECONDS = env.int("SIGNUP_ADDRESS_WINDOW_SECONDS", default=3600)
if SIGNUP_ADDRESS_LIMIT < 1 or SIGNUP_ADDRESS_WINDOW_SECONDS < 1:
    raise ImproperlyConfigured("SIGNUP_ADDRESS_LIMIT and SIGNUP_ADDRESS_WINDOW_SECONDS must be 1 or more.")

# Password-reset links (organisations/signin.py): each client address may ask this many times within
# its window before it is told to wait; each e-mail address typed is sent at most
# PASSWORD_RESET_ACCOUNT_LIMIT links within its window, and further requests send nothing (the page
# answers the same either way, so it never tells whether an address has an account).
PASSWORD_RESET_ADDRESS_LIMIT = env.int("PASSWORD_RESET_ADDRESS_LIMIT", default=20)
PASSWORD_RESET_ADDRESS_WINDOW_SECONDS = env.int("PASSWORD_RESET_ADDRESS_WINDOW_SECONDS", default=3600)
PASSWORD_RESET_ACCOUNT_LIMIT = env.int("PASSWORD_RESET_ACCOUNT_LIMIT", default=3)
PASSWORD_RESET_ACCOUNT_WINDOW_SECONDS = env.int("PASSWORD_RESET_ACCOUNT_WINDOW_SECONDS", default=3600)
for _name in (
    "PASSWORD_RESET_ADDRESS_LIMIT",
    "PASSWORD_RESET_ADDRESS_WINDOW_SECONDS",
    "PASSWORD_RESET_ACCOUNT_LIMIT",
    "PASSWORD_RESET_ACCOUNT_WINDOW_SECONDS",
):
    if globals()[_name] < 1:
        raise ImproperlyConfigured(f"{_name} must be a whole number of 1 or more.")

# Client addresses (sign-in throttling, the API's rate limits, audit). Only a request that arrives
# from one of these proxies (IP addresses or CIDR ranges, comma-separated) has its client's address
# read from X-Forwarded-For; from anywhere else that header is ignored, since anyone can send it.
# Empty (the default): the connecting address is the client's.
TRUSTED_PROXIES = env.list("TRUSTED_PROXIES", default=[])
for _proxy in TRUSTED_PROXIES:
    try:
        ipaddress.ip_network(_proxy.strip(), strict=False)
    except ValueError:
        raise ImproperlyConfigured(f"TRUSTED_PROXIES: {_proxy!r} is not an IP address or a CIDR range.") from None

# Links sent by e-mail to set a password (invitations) or reset one work once, and stop working
# after this many seconds.
PASSWORD_RESET_TIMEOUT = env.int("PASSWORD_RESET_TIMEOUT", default=3 * 24 * 3600)
# Closed placement requests keep the person's case reference and needs this long, then are anonymised.
PERSONAL_DATA_RETENTION_DAYS = env.int("PERSONAL_DATA_RETENTION_DAYS", default=2190)

# Integration API: request rates per client, idempotency keys, webhooks, open data.
API_THROTTLE_RATE_CLIENT = env.str("API_THROTTLE_RATE_CLIENT", default="600/min")
API_THROTTLE_RATE_USER = env.str("API_THROTTLE_RATE_USER", default="600/min")
API_THROTTLE_RATE_ANON = env.str("API_THROTTLE_RATE_ANON", default="60/min")
IDEMPOTENCY_KEY_RETENTION_HOURS = env.int("IDEMPOTENCY_KEY_RETENTION_HOURS", default=24)
IDEMPOTENCY_WAIT_SECONDS = env.float("IDEMPOTENCY_WAIT_SECONDS", default=10.0)
IDEMPOTENCY_POLL_SECONDS = 0.05
WEBHOOK_MAX_ATTEMPTS = env.int("WEBHOOK_MAX_ATTEMPTS", default=8)
WEBHOOK_BACKOFF_BASE_SECONDS = env.float("WEBHOOK_BACKOFF_BASE_SECONDS", default=30.0)
WEBHOOK_TIMEOUT_SECONDS = env.float("WEBHOOK_TIMEOUT_SECONDS", default=10.0)
# Off in production: a webhook must not be a way to reach the service's own network.
WEBHOOK_ALLOW_PRIVATE_ADDRESSES = env.bool("WEBHOOK_ALLOW_PRIVATE_ADDRESSES", default=DEBUG)
# Register a prefix with the Open Contracting Partnership for publication; the default only has its form.
OCDS_OCID_PREFIX = env.str("OCDS_OCID_PREFIX", default="ocds-cplace")
OCDS_PUBLISHER_NAME = env.str("OCDS_PUBLISHER_NAME", default="Care home placements")
OCDS_LICENSE = env.str(
    "OCDS_LICENSE", default="https://www.nationalarchives.gov.uk/doc/open-government-licence/version/3/"
)
CELERY_BEAT_SCHEDULE["integrations-purge-idempotency-keys"] = {
    "task": "integrations.tasks.purge_idempotency_keys",
    "schedule": 6 * 3600.0,
}
CELERY_BEAT_SCHEDULE["integrations-placement-started-events"] = {
    "task": "integrations.tasks.emit_placement_started_events",
    "schedule": 3600.0,
}
CELERY_BEAT_SCHEDULE["bidding-tender-reminders"] = {
    "task": "bidding.tasks.tender_reminders_send_task",
    "schedule": 60.0,
}
CELERY_BEAT_SCHEDULE["providers-admission-closures-take-effect"] = {
    "task": "providers.tasks.admission_closures_take_effect_task",
    "schedule": 60.0,
}
CELERY_BEAT_SCHEDULE["fairness-standstills-confirm-due"] = {
    "task": "fairness.tasks.standstills_confirm_due_task",
    "schedule": 300.0,
}
# Each document and stage is reminded once, so running hourly only makes a new day's reminders prompt.
CELERY_BEAT_SCHEDULE["providers-compliance-reminders"] = {
    "task": "providers.tasks.compliance_reminders_send_task",
    "schedule": 3600.0,
}
# Each return owed is reminded once when due and once when overdue, so hourly runs only make them prompt.
CELERY_BEAT_SCHEDULE["quality-return-reminders"] = {
    "task": "quality.tasks.return_reminders_send_task",
    "schedule": 3600.0,
}

# Logs: one JSON object a line (LOG_FORMAT=plain for people reading a terminal). Every line of a
# web request carries its request_id (django_structlog), and tasks queued by the request carry
# it into the worker's lines too.
LOG_FORMAT = env.str("LOG_FORMAT", default="plain" if DEBUG else "json")
if LOG_FORMAT not in ("json", "plain"):
    raise ImproperlyConfigured("LOG_FORMAT must be json or plain.")
_LOG_PRE_CHAIN = [
    structlog.contextvars.merge_contextvars,
    structlog.stdlib.add_log_level,
    structlog.stdlib.add_logger_name,
    structlog.processors.TimeStamper(fmt="iso", utc=True),
]
structlog.configure(
    processors=[
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.filter_by_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        structlog.stdlib.add_logger_name,
        structlog.stdlib.add_log_level,
        structlog.processors.StackInfoRenderer(),
        structlog.processors.format_exc_info,
        structlog.stdlib.ProcessorFormatter.wrap_for_formatter,
    ],
    logger_factory=structlog.stdlib.LoggerFactory(),
    cache_logger_on_first_use=True,
)
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "json": {
            "()": structlog.stdlib.ProcessorFormatter,
            "processor": structlog.processors.JSONRenderer(),
            "foreign_pre_chain": _LOG_PRE_CHAIN,
        },
        "plain": {
            "()": structlog.stdlib.ProcessorFormatter,
            "processor": structlog.dev.ConsoleRenderer(colors=False),
            "foreign_pre_chain": _LOG_PRE_CHAIN,
        },
    },
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": LOG_FORMAT}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
}
DJANGO_STRUCTLOG_CELERY_ENABLED = True
# The reverse proxy's X-Request-ID names the request in the logs, so its lines and ours join up
# (one is made up when the header is absent). It is only ever written to logs, as JSON.
DJANGO_STRUCTLOG_TRUST_UPSTREAM_REQUEST_ID = True

# /metrics (Prometheus text format) answers only the addresses in METRICS_ALLOWED_ADDRESSES (CIDR
# ranges; by default this machine alone), or with METRICS_TOKEN as a Bearer token. Empty both to
# switch it off. With several gunicorn workers, set PROMETHEUS_MULTIPROC_DIR (an empty folder
# per host) so the figures cover every worker.
METRICS_ALLOWED_ADDRESSES = env.list("METRICS_ALLOWED_ADDRESSES", default=["127.0.0.1/32", "::1/128"])
METRICS_TOKEN = env.str("METRICS_TOKEN", default="")
# The broker queues whose depth /metrics reports.
CELERY_METRICS_QUEUES = env.list("CELERY_METRICS_QUEUES", default=["celery"])
