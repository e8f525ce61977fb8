"""Settings of the brand portal.

Everything comes from the environment through django-environ; a `.env` file beside
`manage.py` is read when present (see `.env.example` for every name and its meaning).
Secrets have no default unless DEBUG is on, so a production process without them
refuses to start instead of running with a value from the source code.
"""

import os
from pathlib import Path

import environ
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = BASE_DIR / "var"

env = environ.Env()
# Existing environment variables win over the file. PORTAL_ENV_FILE names another file;
# set it empty to read none (the test suite does, so a developer's .env cannot leak in).
ENV_FILE = os.environ.get("PORTAL_ENV_FILE", str(BASE_DIR / ".env"))
if ENV_FILE:
    environ.Env.read_env(ENV_FILE)

DEBUG = env.bool("DEBUG", default=False)


def run_scoped(value: str) -> str:
    """Replace "{run}" with an id shared by this process and the processes it starts (the
    test suite's Celery worker), so concurrent test runs get their own files."""
    return value.replace("{run}", os.environ.setdefault("PORTAL_RUN_ID", str(os.getpid())))


def secret(name: str, debug_default: str = "") -> str:
    """A secret: required in production, a harmless placeholder under DEBUG."""
    if DEBUG:
        return env.str(name, default=debug_default)
    return env.str(name)


SECRET_KEY = secret("SECRET_KEY", "django-insecure-development-only-key")
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["localhost", "127.0.0.1"] if DEBUG else [])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

# --- Applications -------------------------------------------------------------------

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "portal",
    "brands",
    "crowds",
    "campaigns",
    "reports",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # JD Cloud's ISV callbacks are served from here: they need none of what follows.
    "portal.callbacks.IsvCallbackMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "brands.middleware.BrandContextMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "portal.urls"
WSGI_APPLICATION = "portal.wsgi.application"

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
                "brands.context_processors.brand",
                "campaigns.context_processors.jd_status",
            ],
        },
    },
]

# --- Database -----------------------------------------------------------------------

DATABASES = {
    "default": env.db("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'portal.sqlite3'}"),
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    if DATABASES["default"]["NAME"] != ":memory:":
        DATABASES["default"]["NAME"] = str(BASE_DIR / DATABASES["default"]["NAME"])
        Path(DATABASES["default"]["NAME"]).parent.mkdir(parents=True, exist_ok=True)
    # WAL lets the web process, the worker and beat share the file without
    # "database is locked" errors on every concurrent write. In WAL mode, synchronous=NORMAL
    # syncs at checkpoints instead of at every commit: a commit survives a crash of the
    # process, and a power cut can lose the last commits but never corrupts the file (the
    # usual production setting; FULL made each callback wait for two fsyncs).
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {
            "init_command": "PRAGMA journal_mode=WAL;PRAGMA synchronous=NORMAL;",
            "transaction_mode": "IMMEDIATE",
        }
    )
DATABASES["default"]["ATOMIC_REQUESTS"] = False
# Connections are kept between requests, checked before reuse: a server's connection costs
# a handshake, and closing the last connection to a WAL file checkpoints it (bench_callbacks:
# 4.7x the callbacks per second on PostgreSQL, 2-4x on SQLite). A `conn_max_age` in
# DATABASE_URL wins over DATABASE_CONN_MAX_AGE.
DATABASES["default"].setdefault("CONN_MAX_AGE", env.int("DATABASE_CONN_MAX_AGE", default=60))
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
# Test databases. SQLite's is in memory unless named: the suite names a file
# (DATABASE_TEST_NAME) so that a real Celery worker process can share it. A server's
# (PostgreSQL) is named after the database and the run, so that concurrent test runs
# against one server keep apart, as their SQLite files do.
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    if env.str("DATABASE_TEST_NAME", default=""):
        DATABASES["default"]["TEST"] = {
            "NAME": str(BASE_DIR / run_scoped(env.str("DATABASE_TEST_NAME"))),
        }
        Path(DATABASES["default"]["TEST"]["NAME"]).parent.mkdir(parents=True, exist_ok=True)
else:
    DATABASES["default"]["TEST"] = {
        "NAME": run_scoped(f"test_{DATABASES['default']['NAME']}_{{run}}"),
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Sessions and cache -------------------------------------------------------------
# Sessions live in the database, never in signed cookies: the cookie holds only a random
# key, so logging out or deleting a session ends it on the server, and the OAuth `state`
# and PKCE verifier that Authlib keeps in the session stay bound to this browser.
SESSION_ENGINE = "django.contrib.sessions.backends.db"
# Nothing that processes must share is kept in Django's cache (sessions are in the
# database), so each process has its own in memory.
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

# --- Internationalisation -----------------------------------------------------------

LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", _("Simplified Chinese")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = env.str("TIME_ZONE", default="Asia/Shanghai")
USE_I18N = True
USE_TZ = True

# --- Static files (WhiteNoise) ------------------------------------------------------

STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "static"
STATICFILES_DIRS = [BASE_DIR / "static"]
# Front-end libraries from the npm registry (package.json, installed by `make`), served
# under static/vendor/ without a build step.
if (BASE_DIR / "node_modules" / "chart.js" / "dist").is_dir():
    STATICFILES_DIRS.append(("vendor/chartjs", BASE_DIR / "node_modules" / "chart.js" / "dist"))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    # Hashed, compressed names; under DEBUG the plain names are served from the finders.
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}
# A missing manifest entry (a file added without collectstatic) serves the plain name
# instead of failing the whole page.
WHITENOISE_MANIFEST_STRICT = False

# --- Security -----------------------------------------------------------------------
# Production defaults follow `manage.py check --deploy`; behind a TLS-terminating proxy
# set SECURE_PROXY_SSL_HEADER_ENABLED=true.

SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=not DEBUG)
SESSION_COOKIE_SECURE = env.bool("SESSION_COOKIE_SECURE", default=not DEBUG)
CSRF_COOKIE_SECURE = env.bool("CSRF_COOKIE_SECURE", default=not DEBUG)
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=0 if DEBUG else 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=True)
SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=True)
if env.bool("SECURE_PROXY_SSL_HEADER_ENABLED", default=False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
SESSION_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"

# --- REST API -----------------------------------------------------------------------

REST_FRAMEWORK = {
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "PAGE_SIZE": 50,
    # DRF's own 400s (a body that does not parse, serializer errors) in the API's error
    # envelope `{"errors": [{"path", "message"}]}`, as every operation documents them.
    "EXCEPTION_HANDLER": "portal.api.exception_handler",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "JD brand marketing portal API",
    "DESCRIPTION": "Everything a brand user can do in the browser, scoped to their brand.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    # Swagger UI and ReDoc from the sidecar package: the docs work offline.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "ENUM_NAME_OVERRIDES": {"PackageTypeEnum": "crowds.models.PackageType"},
}

# --- Celery -------------------------------------------------------------------------
# The embedded default is kombu's filesystem transport: no broker server to run.
# Production: CELERY_BROKER_URL=redis://..., CELERY_RESULT_BACKEND=redis://...

CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default="filesystem://")
# Relative folders are taken from the project root.
CELERY_BROKER_FILESYSTEM_DIR = BASE_DIR / run_scoped(
    env.str("CELERY_BROKER_FILESYSTEM_DIR", default="var/broker")
)
CELERY_RESULT_BACKEND = run_scoped(
    env.str("CELERY_RESULT_BACKEND", default="file://var/celery-results")
)
if CELERY_RESULT_BACKEND.startswith("file://") and not CELERY_RESULT_BACKEND.startswith("file:///"):
    CELERY_RESULT_BACKEND = f"file://{BASE_DIR / CELERY_RESULT_BACKEND.removeprefix('file://')}"
if CELERY_BROKER_URL.startswith("filesystem"):
    # kombu's filesystem transport with atomic writes and claims (portal/broker.py).
    CELERY_BROKER_TRANSPORT = "portal.broker:Transport"
    for _sub in ("out", "processed"):
        (CELERY_BROKER_FILESYSTEM_DIR / _sub).mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(CELERY_BROKER_FILESYSTEM_DIR / "out"),
        "data_folder_out": str(CELERY_BROKER_FILESYSTEM_DIR / "out"),
        "processed_folder": str(CELERY_BROKER_FILESYSTEM_DIR / "processed"),
        # The exchange tables, otherwise written to ./control in the working directory.
        "control_folder": str(CELERY_BROKER_FILESYSTEM_DIR / "control"),
        "store_processed": False,
    }
if CELERY_RESULT_BACKEND.startswith("file://"):
    Path(CELERY_RESULT_BACKEND.removeprefix("file://")).mkdir(parents=True, exist_ok=True)
# The queue tasks go to. On a shared broker server (Redis) the test suite names one per run
# (CELERY_TASK_DEFAULT_QUEUE=portal-test-{run}), so that concurrent runs and their workers
# never take each other's messages.
CELERY_TASK_DEFAULT_QUEUE = run_scoped(env.str("CELERY_TASK_DEFAULT_QUEUE", default="celery"))
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")
CELERY_TASK_TIME_LIMIT = env.int("CELERY_TASK_TIME_LIMIT", default=300)
CELERY_TASK_SOFT_TIME_LIMIT = env.int("CELERY_TASK_SOFT_TIME_LIMIT", default=240)
# A starting worker asks JD once for the tag catalog, notices and status.
WARM_UP_ON_WORKER_START = env.bool("WARM_UP_ON_WORKER_START", default=True)
# How many times a poll or build may be resent after its worker died before it is given up
# with the reason shown (portal/redelivery.py).
CELERY_MAX_REDELIVERIES = env.int("CELERY_MAX_REDELIVERIES", default=5)

# --- JD Cloud -----------------------------------------------------------------------
# The JD-provided API (gateway-signed with AK/SK), the ISV callback token key, and the
# OAuth 2.0 joint login. Defaults point at JD Cloud's documented hosts; `make run`
# points them at the sandbox.

JDCLOUD_API_BASE_URL = env.str("JDCLOUD_API_BASE_URL", default="http://127.0.0.1:8100/jdcloud")
JDCLOUD_ACCESS_KEY = secret("JDCLOUD_ACCESS_KEY", "sandbox-access-key")
JDCLOUD_SECRET_KEY = secret("JDCLOUD_SECRET_KEY", "sandbox-secret-key")
JDCLOUD_SIGNING_ALGORITHM = env.str("JDCLOUD_SIGNING_ALGORITHM", default="JDCLOUD2-HMAC-SHA256")
# The gateway signature's credential scope. The API-gateway SDK core that JD builds
# per-ISV SDKs on signs with service "simpleclient" in region "jdcloud-api".
JDCLOUD_SIGNING_SERVICE = env.str("JDCLOUD_SIGNING_SERVICE", default="simpleclient")
JDCLOUD_SIGNING_REGION = env.str("JDCLOUD_SIGNING_REGION", default="jdcloud-api")
# Reads (list, info, status, templates, balance, report) are tried this many times.
JDCLOUD_READ_ATTEMPTS = env.int("JDCLOUD_READ_ATTEMPTS", default=3)
JDCLOUD_ISV_KEY = secret("JDCLOUD_ISV_KEY", "SandboxIsvKey0123456789abcdefABC")
# The ECRM spec drops empty values before hashing; a sibling JD product keeps them.
JDCLOUD_ISV_TOKEN_KEEP_EMPTY = env.bool("JDCLOUD_ISV_TOKEN_KEEP_EMPTY", default=False)
JDCLOUD_PARTNER_ID = env.str("JDCLOUD_PARTNER_ID", default="")
JDCLOUD_TIMEOUT_SECONDS = env.float("JDCLOUD_TIMEOUT_SECONDS", default=10.0)
JDCLOUD_CONNECT_TIMEOUT_SECONDS = env.float("JDCLOUD_CONNECT_TIMEOUT_SECONDS", default=3.0)
JDCLOUD_OAUTH_CLIENT_ID = env.str("JDCLOUD_OAUTH_CLIENT_ID", default="sandbox-client")
JDCLOUD_OAUTH_CLIENT_SECRET = secret("JDCLOUD_OAUTH_CLIENT_SECRET", "sandbox-client-secret")
JDCLOUD_OAUTH_AUTHORIZE_URL = env.str(
    "JDCLOUD_OAUTH_AUTHORIZE_URL", default="https://oauth2.jdcloud.com/authorize"
)
JDCLOUD_OAUTH_TOKEN_URL = env.str(
    "JDCLOUD_OAUTH_TOKEN_URL", default="https://oauth2.jdcloud.com/token"
)
JDCLOUD_OAUTH_USERINFO_URL = env.str(
    "JDCLOUD_OAUTH_USERINFO_URL", default="https://oauth2.jdcloud.com/userinfo"
)
# Client authentication at the token endpoint: client_secret_basic or client_secret_post.
JDCLOUD_OAUTH_TOKEN_AUTH_METHOD = env.str(
    "JDCLOUD_OAUTH_TOKEN_AUTH_METHOD", default="client_secret_basic"
)
# The userinfo field that holds the JD pin passed to /master/verify.
JDCLOUD_OAUTH_PIN_CLAIM = env.str("JDCLOUD_OAUTH_PIN_CLAIM", default="account")
# JD Cloud's `scope=openid` is optional; the pin comes from userinfo, so by default we do
# not ask for an id_token (JD Cloud publishes no JWKS to verify one with).
JDCLOUD_OAUTH_SCOPE = env.str("JDCLOUD_OAUTH_SCOPE", default="")
# Hosts besides our own that a free-login `preview_url` may redirect to.
PREVIEW_ALLOWED_HOSTS = env.list("PREVIEW_ALLOWED_HOSTS", default=[])
# How long a free-login preview session lasts (read-only, one brand).
PREVIEW_SESSION_SECONDS = env.int("PREVIEW_SESSION_SECONDS", default=30 * 60)

# --- Crowds -------------------------------------------------------------------------
# Instance polling (crowds.services.poll_delay_seconds): a new package is first looked at
# when JD should have made it (FIRST: JD's generation time taken as about a minute, sd ~6 s,
# so mean + half a spread), then INITIAL later, then after half the time waited past the
# first look, never more than MAX apart (the first look included); derived packages
# (save-as, filter) are looked at at once. Still generating after the give-up bound:
# flagged stuck (re-poll in UI). `manage.py bench_polling` measures this policy.
CROWD_POLL_FIRST_DEFAULT = 63.0  # for JD's packages; `make run`'s sandbox makes them in ~20 s
CROWD_POLL_FIRST_SECONDS = env.float("CROWD_POLL_FIRST_SECONDS", default=CROWD_POLL_FIRST_DEFAULT)
CROWD_POLL_INITIAL_SECONDS = env.float("CROWD_POLL_INITIAL_SECONDS", default=4.0)
CROWD_POLL_MAX_SECONDS = env.float("CROWD_POLL_MAX_SECONDS", default=90.0)
CROWD_POLL_GIVE_UP_SECONDS = env.int("CROWD_POLL_GIVE_UP_SECONDS", default=6 * 3600)
# A poll this late is taken as lost and restarted by the periodic sweeper.
CROWD_POLL_OVERDUE_SECONDS = env.int("CROWD_POLL_OVERDUE_SECONDS", default=120)

# --- Linkflow CDP -------------------------------------------------------------------
# Each brand's App Key / Secret are stored encrypted on the brand, not here.

LINKFLOW_API_BASE_URL = env.str("LINKFLOW_API_BASE_URL", default="http://127.0.0.1:8100/linkflow")
LINKFLOW_TIMEOUT_SECONDS = env.float("LINKFLOW_TIMEOUT_SECONDS", default=10.0)
LINKFLOW_CONNECT_TIMEOUT_SECONDS = env.float("LINKFLOW_CONNECT_TIMEOUT_SECONDS", default=3.0)
# Encrypted fields (django-fernet-encrypted-fields) derive their key from SECRET_KEY (and
# SECRET_KEY_FALLBACKS, for rotation) with this salt.
SALT_KEY = (
    env.list("FIELD_ENCRYPTION_SALT", default=["portal-field-encryption"])
    if DEBUG
    else (env.list("FIELD_ENCRYPTION_SALT"))
)
# A Linkflow report still computing is polled this often, at most this long.
LINKFLOW_REPORT_POLL_SECONDS = env.float("LINKFLOW_REPORT_POLL_SECONDS", default=3.0)
LINKFLOW_REPORT_POLL_GIVE_UP_SECONDS = env.int("LINKFLOW_REPORT_POLL_GIVE_UP_SECONDS", default=600)

# --- Portal -------------------------------------------------------------------------
# The portal's public address: JD Cloud's reviewers open activity previews under it.
PORTAL_BASE_URL = env.str("PORTAL_BASE_URL", default="http://127.0.0.1:8000")

# --- Sandbox ------------------------------------------------------------------------

SANDBOX_URL = env.str("SANDBOX_URL", default="http://127.0.0.1:8100")

# --- Logging ------------------------------------------------------------------------

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        # Every remote call is a row in the integration call log; no need to echo each.
        "httpx": {"level": "WARNING"},
    },
}

# --- Housekeeping -------------------------------------------------------------------

INTEGRATION_CALL_RETENTION_DAYS = env.int("INTEGRATION_CALL_RETENTION_DAYS", default=90)
