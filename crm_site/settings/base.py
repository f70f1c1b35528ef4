"""Settings shared by every environment.

Everything that differs between a laptop, CI and production is read from the environment
(`DATABASE_URL`, `REDIS_URL`, `SECRET_KEY`, `DEBUG`, `ALLOWED_HOSTS`, ...). The defaults are
the embedded ones: SQLite and a file-system Celery broker, so `make run` needs no servers.
"""

from pathlib import Path

import environ
from celery.schedules import crontab
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent.parent
RUN_DIR = BASE_DIR / ".run"

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

# --- Core --------------------------------------------------------------------------------
SECRET_KEY = env("SECRET_KEY", default="insecure-local-development-key-change-me")
DEBUG = env.bool("DEBUG", default=False)
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "knox",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_htmx",
    "axes",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "crm_site.mfa",
    "customers",
    "segmentation",
    "interactions",
    "campaigns",
]

MIDDLEWARE = [
    "crm_site.security.RequestIdMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "crm_site.security.SessionIdleRefreshMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "customers.middleware.BrowserAccessMiddleware",
    "crm_site.mfa.middleware.MfaMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "crm_site.security.NoStoreMiddleware",
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "crm_site.urls"
WSGI_APPLICATION = "crm_site.wsgi.application"
ASGI_APPLICATION = "crm_site.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "interactions.context_processors.notifications",
                "crm_site.mfa.context_processors.step_up",
            ],
        },
    },
]

# Inputs and selects render in Python (same markup, a fraction of the CPU); other widgets
# use their templates.
FORM_RENDERER = "crm_site.forms.PythonWidgetRenderer"

# --- Data --------------------------------------------------------------------------------
DATABASES = {
    "default": env.db("DATABASE_URL", default=f"sqlite:///{RUN_DIR / 'crm.sqlite3'}"),
}
DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    RUN_DIR.mkdir(exist_ok=True)
    # Web, worker and beat share one file: wait for locks instead of failing at once.
    DATABASES["default"]["OPTIONS"] = {"timeout": 20, "transaction_mode": "IMMEDIATE"}
    DATABASES["default"]["CONN_MAX_AGE"] = 0
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "customers.User"
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",  # first: refuses locked-out accounts
    "customers.backends.StaffBackend",
]
# Lock an account after 5 failed sign-ins (per user name, whatever the address) for an hour.
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = env.float("AXES_COOLOFF_HOURS", default=1.0)
AXES_LOCKOUT_PARAMETERS = ["username"]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
# Locking per user name is the point (ASVS 2.2.1). Locking per address would lock a whole
# branch behind one NAT after five typos; address-based throttling belongs to the proxy.
SILENCED_SYSTEM_CHECKS = ["axes.W006"]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "customers:list"
LOGOUT_REDIRECT_URL = "login"

# Two-step verification (TOTP, crm_site/mfa): branch heads, head office and superusers enter a
# code at every sign-in; reveals, approvals and the admin need a code at most this old, from
# anyone (ASVS 2.8.4, 3.7.1, 4.3.1). Wrong codes in a row lock it like wrong passwords do.
MFA_STEP_UP_SECONDS = env.int("MFA_STEP_UP_SECONDS", default=5 * 60)
MFA_FAILURE_LIMIT = env.int("MFA_FAILURE_LIMIT", default=5)
MFA_LOCKOUT_SECONDS = env.int("MFA_LOCKOUT_SECONDS", default=60 * 60)
MFA_STEP_UP_VIEWS = [
    "customers:reveal",
    "customers:holding_reveal",
    "customers:key_contact_reveal",
    "customers:change_request_reveal",
    "customers:change_request_decide",
    "customers:export_unmasked",
    "campaigns:skip_request_decide",
    "admin:*",
]
OTP_TOTP_ISSUER = "Bank CRM"
OTP_ADMIN_HIDE_SENSITIVE_DATA = True  # the admin never shows an authenticator's secret

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 12},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

REDIS_URL = env("REDIS_URL", default="")
if REDIS_URL:
    CACHES = {
        "default": {
            # Degrades to "no cache" while Redis is down: it holds only copies and counters.
            "BACKEND": "crm_site.cache.ResilientRedisCache",
            "LOCATION": REDIS_URL,
            "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
# Rendered pieces of the page layout that only change with a deployment (navigation links,
# asset tags), per process: `{% cache ... using="fragments" %}` in templates/base.html.
CACHES["fragments"] = {
    "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
    "LOCATION": "layout-fragments",
}

# --- Internationalisation ----------------------------------------------------------------
LANGUAGE_CODE = "en"
LANGUAGES = [
    ("en", _("English")),
    ("zh-hans", _("Simplified Chinese")),
]
LOCALE_PATHS = [BASE_DIR / "locale"]
USE_I18N = True
TIME_ZONE = env("TIME_ZONE", default="Asia/Shanghai")
USE_TZ = True
DEFAULT_CURRENCY = "CNY"

# --- Static files ------------------------------------------------------------------------
STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}

# --- Sessions and security ---------------------------------------------------------------
# Django's database sessions, read without compiling the query on every page.
SESSION_ENGINE = "crm_site.sessions"
SESSION_COOKIE_AGE = env.int("SESSION_IDLE_SECONDS", default=15 * 60)
# The age above is an idle timeout, not an absolute one: an active session is saved again at
# most this often (crm_site.security.SessionIdleRefreshMiddleware), not on every request.
SESSION_REFRESH_SECONDS = env.int("SESSION_REFRESH_SECONDS", default=60)
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
# No inline scripts or styles anywhere: JavaScript lives in static files.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "frame-ancestors": ["'none'"],
        "form-action": ["'self'"],
        "base-uri": ["'self'"],
        "object-src": ["'none'"],
    }
}

# --- REST API ----------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "customers.api.authentication.IntegrationTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_FILTER_BACKENDS": [
        "crm_site.api.StrictFilterBackend",  # django-filter; a typed filter sent empty is 400
        "rest_framework.filters.OrderingFilter",
    ],
    "DEFAULT_PAGINATION_CLASS": "crm_site.api.CursorPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_SCHEMA_CLASS": "customers.api.schema.AutoSchema",
    "EXCEPTION_HANDLER": "crm_site.api.exception_handler",
    "DEFAULT_VERSIONING_CLASS": None,
    # One bucket per integration key (its own rate, else this) or per person: 429 + Retry-After.
    "DEFAULT_THROTTLE_CLASSES": ["customers.api.throttles.ApiKeyRateThrottle"],
    "DEFAULT_THROTTLE_RATES": {"api_key": env("API_KEY_RATE", default="1200/minute")},
}
# Integration API limits: a bulk request carries at most 5,000 records (~1 KB each); larger
# pushes go as an import job (an NDJSON file, streamed to disk, processed by Celery).
API_MAX_BODY_BYTES = env.int("API_MAX_BODY_BYTES", default=10 * 1024 * 1024)
API_IMPORT_MAX_BYTES = env.int("API_IMPORT_MAX_BYTES", default=512 * 1024 * 1024)
API_IMPORT_DIR = env("API_IMPORT_DIR", default=str(RUN_DIR / "api-imports"))
API_IMPORT_STALE_SECONDS = env.int("API_IMPORT_STALE_SECONDS", default=15 * 60)
API_IDEMPOTENCY_TTL_HOURS = env.int("API_IDEMPOTENCY_TTL_HOURS", default=72)
KNOX_TOKEN_MODEL = "knox.AuthToken"  # noqa: S105 - a model name; IntegrationKey points at it
REST_KNOX = {
    "TOKEN_TTL": None,  # integration tokens carry their own expiry, set when issued
    "AUTO_REFRESH": False,
    "TOKEN_PREFIX": "crm_",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Bank CRM API",
    "DESCRIPTION": (
        "REST API of the relationship-management CRM. Authenticate with an integration "
        "token: `Authorization: Token <token>`. Every list is scoped to what the caller may see."
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "ENUM_NAME_OVERRIDES": {
        "ValueTierEnum": "segmentation.choices.ValueTier",
        "IngestKindEnum": "customers.models.integration.IngestKind",
        "ReminderKindEnum": "interactions.choices.ReminderKind",
    },
}

# --- Celery ------------------------------------------------------------------------------
if REDIS_URL:
    CELERY_BROKER_URL = REDIS_URL
    CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 3600}
else:
    # Embedded default: a broker that is a folder, so `make run` needs no Redis server.
    _broker_dir = RUN_DIR / "broker"
    for _folder in ("queue", "processed", "control"):
        (_broker_dir / _folder).mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_URL = "filesystem://"
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_broker_dir / "queue"),
        "data_folder_out": str(_broker_dir / "queue"),
        "processed_folder": str(_broker_dir / "processed"),
        "control_folder": str(_broker_dir / "control"),
        "store_processed": False,
    }
CELERY_TASK_IGNORE_RESULT = True
CELERY_RESULT_BACKEND = None
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# Workers log through LOGGING above (request ids, JSON security events, masked identity
# numbers) instead of replacing the root logger's handlers with Celery's own.
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
# A Redis outage must not cancel a task mid-way (Celery 6 will default to cancelling): a
# scoring run killed that way would stay `running` for hours. The database decides what is
# done, so the message redelivered after the outage finds nothing left to do.
CELERY_WORKER_CANCEL_LONG_RUNNING_TASKS_ON_CONNECTION_LOSS = False
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TIMEZONE = TIME_ZONE
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BEAT_SCHEDULE = {
    "dispatch-due-reminders": {
        "task": "interactions.tasks.dispatch_due_reminders_task",
        "schedule": 60.0,
    },
    "send-reminder-emails": {
        "task": "interactions.tasks.send_reminder_emails_task",
        "schedule": 60.0,
    },
    "generate-greetings": {
        "task": "interactions.tasks.generate_greetings_task",
        "schedule": crontab(hour=6, minute=0),
    },
    "cadence-digest": {
        "task": "interactions.tasks.cadence_digest_task",
        "schedule": crontab(hour=6, minute=30),
    },
    "escalate-complaints": {
        "task": "interactions.tasks.escalate_complaints_task",
        "schedule": 15 * 60.0,
    },
    "open-quarterly-surveys": {
        "task": "interactions.tasks.open_quarterly_surveys_task",
        "schedule": crontab(hour=7, minute=0, day_of_month=1, month_of_year="1,4,7,10"),
    },
    "purge-idempotency-records": {
        "task": "customers.tasks.purge_idempotency_records_task",
        "schedule": crontab(hour=4, minute=15),
    },
    # The broker is a doorbell: work saved while it was down is found in the database here.
    "requeue-import-jobs": {
        "task": "customers.tasks.import_jobs_requeue_task",
        "schedule": 300.0,
    },
    "requeue-scoring-runs": {
        "task": "segmentation.tasks.scoring_runs_requeue_task",
        "schedule": 300.0,
    },
    "plan-monitoring": {
        "task": "campaigns.tasks.schedule_plan_monitoring_task",
        "schedule": crontab(hour=6, minute=45),
    },
    "nightly-scoring": {
        "task": "segmentation.tasks.score_customers_task",
        "schedule": crontab(
            hour=env.int("SCORING_HOUR", default=2), minute=env.int("SCORING_MINUTE", default=30)
        ),
    },
}
# A scoring run still marked running after this long is taken as dead (its worker stopped).
SEGMENTATION_RUN_TIMEOUT_SECONDS = env.int("SEGMENTATION_RUN_TIMEOUT_SECONDS", default=7200)

# --- E-mail ------------------------------------------------------------------------------
EMAIL_BACKEND = env("EMAIL_BACKEND", default="django.core.mail.backends.console.EmailBackend")
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", default="crm@bank.example")

# --- Interactions, reminders and service -------------------------------------------------
INTERACTIONS_SITE_URL = env("SITE_URL", default="http://127.0.0.1:8000")  # links in e-mails
INTERACTIONS_GREETING_LEAD_DAYS = 3  # greeting reminders this many days ahead of the day
INTERACTIONS_GREETING_HOUR = 9  # local hour the greeting reminder falls due
INTERACTIONS_HOLIDAY_GREETING_TIERS = ("value", "sub_value")  # seed 000: festive greetings
INTERACTIONS_COMPLAINT_SLA_HOURS = {"critical": 24, "high": 72, "medium": 120, "low": 240}
INTERACTIONS_SURVEY_LINK_DAYS = 14  # a survey link expires after this many days
INTERACTIONS_EMAIL_MAX_ATTEMPTS = 5
INTERACTIONS_EMAIL_CLAIM_TIMEOUT_MINUTES = 30  # a claim left by a dead worker is retaken

# --- Customer import and export ----------------------------------------------------------
CUSTOMER_IMPORT_MAX_BYTES = env.int("CUSTOMER_IMPORT_MAX_BYTES", default=20 * 1024 * 1024)
# The commit runs as a Celery job (all or nothing); the preview still validates in the
# request at about 0.4 ms a row, so 20,000 rows preview in about 8 s.
CUSTOMER_IMPORT_MAX_ROWS = env.int("CUSTOMER_IMPORT_MAX_ROWS", default=20_000)
# An XLSX is a ZIP: the most its parts may expand to (a zip bomb is refused before parsing).
CUSTOMER_IMPORT_MAX_XLSX_EXPANDED_BYTES = env.int(
    "CUSTOMER_IMPORT_MAX_XLSX_EXPANDED_BYTES", default=40 * 1024 * 1024
)
# Uploaded files wait here between preview and commit: private, outside the web root. With
# several web hosts this must be a shared volume.
CUSTOMER_IMPORT_DIR = env("CUSTOMER_IMPORT_DIR", default=str(RUN_DIR / "imports"))
CUSTOMER_IMPORT_TTL_SECONDS = env.int("CUSTOMER_IMPORT_TTL_SECONDS", default=30 * 60)
CUSTOMER_EXPORT_MAX_ROWS = env.int("CUSTOMER_EXPORT_MAX_ROWS", default=100_000)

# --- Logging -----------------------------------------------------------------------------
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {
        "request_id": {"()": "crm_site.security.RequestIdFilter"},
        "mask_identity": {"()": "crm_site.security.MaskIdentityNumbersFilter"},
    },
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"},
        "json": {"()": "crm_site.security.JsonFormatter"},
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": env("LOG_FORMAT", default="plain"),
            "filters": ["request_id", "mask_identity"],
        },
        "security": {
            "class": "logging.StreamHandler",
            "formatter": "json",
            "filters": ["request_id", "mask_identity"],
        },
    },
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", default="INFO")},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        "crm.security": {"handlers": ["security"], "level": "INFO", "propagate": False},
    },
}
