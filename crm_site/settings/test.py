"""Settings for the test suite: real PostgreSQL and real Redis.

The suite runs against PostgreSQL and Redis (`DATABASE_URL`/`REDIS_URL`, else the local
defaults below). Under CI (`CI=true`) a missing server is an error, never a quiet fallback.
Outside CI, with no PostgreSQL reachable, the suite falls back to SQLite and says so.
"""

import socket
import sys
from urllib.parse import urlparse

from .base import *  # noqa: F403
from .base import env

RUNNING_IN_CI = env.bool("CI", default=False)
DEFAULT_TEST_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/crm"
DEFAULT_TEST_REDIS_URL = "redis://127.0.0.1:6379/15"


def _reachable(url: str, default_port: int) -> bool:
    parsed = urlparse(url)
    try:
        with socket.create_connection(
            (parsed.hostname or "127.0.0.1", parsed.port or default_port), 1
        ):
            return True
    except OSError:
        return False


TEST_DATABASE_URL = env("DATABASE_URL", default=DEFAULT_TEST_DATABASE_URL)
TEST_REDIS_URL = env("REDIS_URL", default=DEFAULT_TEST_REDIS_URL)

if TEST_DATABASE_URL.startswith("postgres") and not _reachable(TEST_DATABASE_URL, 5432):
    if RUNNING_IN_CI:
        raise RuntimeError(f"CI: PostgreSQL is not reachable at {TEST_DATABASE_URL}")
    sys.stderr.write("PostgreSQL not reachable: the tests run on SQLite (CI refuses this).\n")
    TEST_DATABASE_URL = "sqlite:///:memory:"
if not _reachable(TEST_REDIS_URL, 6379):
    if RUNNING_IN_CI:
        raise RuntimeError(f"CI: Redis is not reachable at {TEST_REDIS_URL}")
    sys.stderr.write("Redis not reachable: broker tests will be skipped (CI refuses this).\n")
    REDIS_AVAILABLE = False
else:
    REDIS_AVAILABLE = True

DATABASES = {"default": env.db_url_config(TEST_DATABASE_URL)}
DATABASES["default"]["CONN_MAX_AGE"] = 0
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
if DATABASES["default"]["ENGINE"].endswith("postgresql"):
    # Django empties the test database with TRUNCATE after each transactional test; the
    # append-only audit tables allow that to their owner only when asked (migration
    # customers 0004). The application never truncates; row UPDATE/DELETE stay refused.
    DATABASES["default"].setdefault("OPTIONS", {})["options"] = "-c crm.audit_truncate=on"

REDIS_URL = TEST_REDIS_URL
CELERY_BROKER_URL = TEST_REDIS_URL
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 3600}
# Query counts must not jump between runs because of a warm cache.
CACHES = {
    "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
    "fragments": CACHES["fragments"],  # noqa: F405 - base's per-process layout cache
}

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # speed only
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
SECRET_KEY = "test-only-secret-key-not-for-production-use-0123456789"  # noqa: S105
DEBUG = False
LANGUAGE_CODE = "en"

# Serve static files straight from the app folders; no collectstatic needed here.
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = True
