"""Settings for the deputies' suggestions tracker, read from the environment.

Each value comes through a small helper that refuses a malformed value loudly, so a typo in a
deployment fails at start-up rather than at three in the morning.
"""
import datetime
import os
from pathlib import Path

import dj_database_url
from celery.schedules import crontab
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("VAR_DIR", BASE_DIR / "var"))


def envstr(name, default=""):
    return os.environ.get(name, default)


def envbool(name, default):
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    if raw.lower() in ("1", "true", "yes", "on"):
        return True
    if raw.lower() in ("0", "false", "no", "off"):
        return False
    raise ImproperlyConfigured(f"{name} must be a boolean (1/0, true/false), got {raw!r}")


def envint(name, default):
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be an integer, got {raw!r}") from None


def envlist(name, default):
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    return [item.strip() for item in raw.split(",") if item.strip()]


# The production image (Dockerfile) sets PRODUCTION=1: there DEBUG is off unless asked for, and asking
# for it stops the start (its error pages show code and settings to anyone).
PRODUCTION = envbool("PRODUCTION", False)
DEBUG = envbool("DEBUG", not PRODUCTION)
if PRODUCTION and DEBUG:
    raise ImproperlyConfigured("DEBUG cannot be on in production (PRODUCTION=1): unset DEBUG or set DEBUG=0")
_DEV_SECRET = "dev-only-insecure-secret-key-do-not-use-in-production"
SECRET_KEY = envstr("SECRET_KEY")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG is off")
    SECRET_KEY = _DEV_SECRET
elif SECRET_KEY == _DEV_SECRET and not DEBUG:
    raise ImproperlyConfigured("SECRET_KEY is the development default; set a real one")
elif not DEBUG and (len(SECRET_KEY) < 50 or len(set(SECRET_KEY)) < 5 or SECRET_KEY.startswith("django-insecure-")):
    # What `check --deploy` only warns about (security.W009) stops a production start here.
    raise ImproperlyConfigured("SECRET_KEY must be at least 50 random characters when DEBUG is off")
ALLOWED_HOSTS = envlist("ALLOWED_HOSTS", ["127.0.0.1", "localhost", "testserver"] if DEBUG else [])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_filters",
    "departments",
    "suggestions",
    "reports",
    "ops",
    "axes",
    "audit",
    "supervision",
    "public",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "ops.middleware.ContentSecurityPolicyMiddleware",
    "ops.middleware.PageMethodsMiddleware",
    "ops.middleware.RejectNulMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "audit.middleware.AuditMiddleware",
    "axes.middleware.AxesMiddleware",
]

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
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "departments.context_processors.roles",
            ],
        },
    },
]

VAR_DIR.mkdir(parents=True, exist_ok=True)
DATABASES = {
    "default": dj_database_url.parse(
        envstr("DATABASE_URL", f"sqlite:///{VAR_DIR / 'db.sqlite3'}"),
        conn_max_age=envint("DB_CONN_MAX_AGE", 60),
    )
}
if DATABASES["default"]["ENGINE"].endswith("sqlite3"):
    # Several processes (web, worker, scheduler) share the file under `make run`.
    DATABASES["default"]["OPTIONS"] = {"timeout": 20}
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    # The covering indexes' INCLUDE columns are PostgreSQL's (docs/PERFORMANCE.md); SQLite keeps the
    # index without them, which is all a development database needs.
    SILENCED_SYSTEM_CHECKS = ["models.W040"]
elif "postgresql" in DATABASES["default"]["ENGINE"]:
    # The JIT costs more to compile the report's aggregates than it saves at this size.
    DATABASES["default"].setdefault("OPTIONS", {})["options"] = "-c jit=off"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "/accounts/login/"
LOGIN_REDIRECT_URL = "/"
LOGOUT_REDIRECT_URL = "/accounts/login/"
SESSION_COOKIE_AGE = envint("SESSION_COOKIE_AGE", 8 * 3600)
SESSION_SAVE_EVERY_REQUEST = True

# Login throttling (django-axes): LOGIN_FAILURE_LIMIT failures for one user name, or from one
# address, lock that name or address for LOGIN_LOCKOUT_MINUTES. The backend only watches; the
# ModelBackend after it logs people in. A success does not reset the count: otherwise one valid
# account would let an insider keep guessing another's password from the same address.
AUTHENTICATION_BACKENDS = [
    "departments.backends.ThrottlingBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = envint("LOGIN_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = datetime.timedelta(minutes=envint("LOGIN_LOCKOUT_MINUTES", 15))
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_RESET_ON_SUCCESS = False
AXES_LOCKOUT_TEMPLATE = "registration/locked.html"
AXES_CLIENT_IP_CALLABLE = "audit.context.client_ip"
AXES_USERNAME_CALLABLE = "audit.context.attempted_username"
AXES_ENABLE_ADMIN = True
AXES_VERBOSE = False  # no start-up banner in every command's output; lockouts are still logged
# Proxies of ours in front of Django (nginx: 1). With 0, X-Forwarded-For is ignored: anyone can send it.
TRUSTED_PROXY_COUNT = envint("TRUSTED_PROXY_COUNT", 0)
# Apps whose rows the audit trail records (audit.receivers); apps not installed are skipped.
AUDITED_APPS = ["departments", "suggestions", "supervision", "auth"]

LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = VAR_DIR / "staticfiles"
STATIC_ROOT.mkdir(parents=True, exist_ok=True)
MEDIA_ROOT = Path(envstr("MEDIA_ROOT", str(VAR_DIR / "media")))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}

REDIS_URL = envstr("REDIS_URL")
if REDIS_URL:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}}
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# Celery: Redis when REDIS_URL is set, otherwise a broker in files under var/ that needs no server.
CELERY_BROKER_URL = REDIS_URL or "filesystem://"
if not REDIS_URL:
    _broker_dir = VAR_DIR / "broker"
    for _sub in ("queue", "processed", "control"):
        (_broker_dir / _sub).mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_broker_dir / "queue"),
        "data_folder_out": str(_broker_dir / "queue"),
        "processed_folder": str(_broker_dir / "processed"),
        "control_folder": str(_broker_dir / "control"),
        "store_processed": False,
    }
else:
    CELERY_BROKER_TRANSPORT_OPTIONS = {"socket_connect_timeout": 3, "socket_timeout": 5}
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TASK_ALWAYS_EAGER = envbool("CELERY_TASK_ALWAYS_EAGER", False)
CELERY_TIMEZONE = TIME_ZONE
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")
REMINDER_HOUR = envint("REMINDER_HOUR", 8)
REMINDER_MINUTE = envint("REMINDER_MINUTE", 30)
# The daily reminder scan at REMINDER_HOUR:REMINDER_MINUTE in CELERY_TIMEZONE (Asia/Shanghai), every
# day: the task itself skips the calendar's non-working days, which a crontab cannot know.
CELERY_BEAT_SCHEDULE = {
    "send-reminders": {"task": "suggestions.send_reminders",
                       "schedule": crontab(hour=REMINDER_HOUR, minute=REMINDER_MINUTE)},
    # Similar suggestions that no worker indexed (supervision.similarity.index_new), at night.
    "index-missing-similar": {"task": "supervision.index_missing", "schedule": crontab(hour=2, minute=30)},
}
# Where the links in e-mails point: the address people open the site at.
SITE_URL = envstr("SITE_URL", "http://127.0.0.1:8000").rstrip("/")

EMAIL_HOST = envstr("EMAIL_HOST")
if EMAIL_HOST:
    EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    EMAIL_PORT = envint("EMAIL_PORT", 25)
    EMAIL_HOST_USER = envstr("EMAIL_HOST_USER")
    EMAIL_HOST_PASSWORD = envstr("EMAIL_HOST_PASSWORD")
    EMAIL_USE_TLS = envbool("EMAIL_USE_TLS", False)
else:
    EMAIL_BACKEND = "django.core.mail.backends.console.EmailBackend"
DEFAULT_FROM_EMAIL = envstr("DEFAULT_FROM_EMAIL", "jianyi@localhost")

# The handling rules of DOMAIN.md ("Deadlines"), one setting each, so that another province's
# rules are a configuration change.
REPLY_MONTHS = envint("REPLY_MONTHS", 3)
EXTENSION_CAP_MONTHS = envint("EXTENSION_CAP_MONTHS", 6)
CO_OPINION_MONTHS = envint("CO_OPINION_MONTHS", 1)
RETURN_WORKDAYS = envint("RETURN_WORKDAYS", 7)
REHANDLING_MONTHS = envint("REHANDLING_MONTHS", 1)
REQUIRE_CONTACT_BEFORE_REPLY = envbool("REQUIRE_CONTACT_BEFORE_REPLY", True)
REMINDER_THRESHOLDS = [int(x) for x in envlist("REMINDER_THRESHOLDS", ["10", "5", "2", "0"])]
# Key suggestions report progress once per period of this many days (7: weekly, from Monday).
KEY_REPORT_PERIOD_DAYS = envint("KEY_REPORT_PERIOD_DAYS", 7)

IMPORT_MAX_BYTES = envint("IMPORT_MAX_BYTES", 20 * 1024 * 1024)
IMPORT_MAX_ROWS = envint("IMPORT_MAX_ROWS", 50000)
# A browser import of more rows than this runs in a Celery worker, with a progress page.
IMPORT_BACKGROUND_ROWS = envint("IMPORT_BACKGROUND_ROWS", 200)
# A browser export of more rows than this is written by a Celery worker, with a progress page and a
# download link for its owner; the file is deleted EXPORT_RETENTION_DAYS days later (at the next export).
EXPORT_BACKGROUND_ROWS = envint("EXPORT_BACKGROUND_ROWS", 5000)
EXPORT_RETENTION_DAYS = envint("EXPORT_RETENTION_DAYS", 7)
UPLOAD_MAX_BYTES = envint("UPLOAD_MAX_BYTES", 20 * 1024 * 1024)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": envstr("LOG_LEVEL", "INFO")},
}

# Sent with every page by ops.middleware: pages keep their scripts and styles in static/ files.
CONTENT_SECURITY_POLICY = ("default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
                           "frame-ancestors 'none'; form-action 'self'; base-uri 'self'")

if not DEBUG:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = envbool("SECURE_SSL_REDIRECT", True)
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = envint("SECURE_HSTS_SECONDS", 31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    X_FRAME_OPTIONS = "DENY"
    SECURE_CONTENT_TYPE_NOSNIFF = True
    SESSION_COOKIE_HTTPONLY = True
    # No script reads the CSRF cookie (forms carry the token in a field), so it can be HttpOnly.
    CSRF_COOKIE_HTTPONLY = True
    # The container probe and load balancers ask /healthz over plain HTTP, behind the TLS proxy.
    SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
    # Needed only when the proxy does not pass the Host people typed: e.g. https://jianyi.example.gov.cn
    CSRF_TRUSTED_ORIGINS = envlist("CSRF_TRUSTED_ORIGINS", [])
