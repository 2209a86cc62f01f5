"""Obmen settings, all read from the environment (see README, "Configuration").

Plain variable names, listed in the README: SECRET_KEY, DEBUG, ALLOWED_HOSTS, DATABASE_URL,
MEDIA_ROOT, EXCHANGE_ROOT, EMAIL_URL, TIME_ZONE, ...
"""

from django.utils.translation import gettext_lazy as _

from settings.env import BASE_DIR, env

# --- Core ------------------------------------------------------------------------------
DEBUG = env.bool("DEBUG", default=False)
# The default key is for the demo and tests only; `manage.py check --deploy` (and the
# shop.W001 check) complain while it is in use with DEBUG off.
INSECURE_DEFAULT_SECRET_KEY = "obmen-insecure-development-key-set-SECRET_KEY-in-production"  # noqa: S105
SECRET_KEY = env("SECRET_KEY", default=INSECURE_DEFAULT_SECRET_KEY)
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "[::1]", "testserver"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "shop",
    "catalog",
    "orders",
    "exchange1c",
]

MIDDLEWARE = [
    # Before everything else: Django's own early errors (disallowed host, body too large)
    # on /exchange must come out as a 1C `failure` line, never an HTML page.
    "exchange1c.middleware.ExchangePlainTextErrorsMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "shop.middleware.ShopLocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "shop.urls"
WSGI_APPLICATION = "shop.wsgi.application"
ASGI_APPLICATION = "shop.asgi.application"

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
                "orders.context_processors.cart_summary",
            ],
        },
    },
]

# --- Database --------------------------------------------------------------------------
# SQLite file by default; PostgreSQL (or anything django-environ knows) through DATABASE_URL.
DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}")}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets the storefront read (and a checkout write) while an import writes; the busy
    # timeout makes a writer wait for the lock instead of failing with "database is locked".
    # IMMEDIATE transactions take the write lock up front, so a read-then-write transaction
    # never dies mid-way on a lock upgrade.
    DATABASES["default"]["OPTIONS"] = {
        "timeout": env.int("SQLITE_BUSY_TIMEOUT", default=30),
        "transaction_mode": "IMMEDIATE",
        "init_command": (
            "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA busy_timeout=30000; "
            "PRAGMA foreign_keys=ON;"
        ),
    }
else:
    DATABASES["default"].setdefault("CONN_MAX_AGE", env.int("CONN_MAX_AGE", default=60))
if DATABASES["default"]["ENGINE"].startswith("django.db.backends.postgresql"):
    # Full-text product search (catalog.selectors) uses django.contrib.postgres.
    INSTALLED_APPS.append("django.contrib.postgres")
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Auth ------------------------------------------------------------------------------
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "admin:login"

# --- I18N ------------------------------------------------------------------------------
LANGUAGE_CODE = env("LANGUAGE_CODE", default="ru")
LANGUAGES = [("ru", _("Russian")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = env("TIME_ZONE", default="Europe/Moscow")
USE_I18N = True
USE_TZ = True

# --- Static and media ------------------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = env.path("STATIC_ROOT", default=BASE_DIR / "var" / "static")
STATICFILES_DIRS = [BASE_DIR / "shop" / "static"]
MEDIA_URL = "/media/"
MEDIA_ROOT = env.path("MEDIA_ROOT", default=BASE_DIR / "var" / "media")
# Serve MEDIA_ROOT from Django (demo, single-box installs); a real deployment lets nginx do it.
SERVE_MEDIA = env.bool("SERVE_MEDIA", default=True)
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = DEBUG

# --- 1C exchange -----------------------------------------------------------------------
# Where 1C's uploads land. Outside MEDIA_ROOT and STATIC_ROOT on purpose: nothing 1C sends
# is ever served by the web server (PROTOCOL.md §3.3).
EXCHANGE_ROOT = env.path("EXCHANGE_ROOT", default=BASE_DIR / "var" / "exchange")
#: PostgreSQL: how many batches of an import's products or offers are applied side by side
#: (exchange1c.importer.lanes); 1 applies them one after the other. Each lane is a database connection.
EXCHANGE_IMPORT_LANES = env.int("EXCHANGE_IMPORT_LANES", default=2)
#: A package's XML files at least this large are read by a second process while an earlier file
#: of the package imports (exchange1c.importer.readahead); 0 turns reading ahead off.
EXCHANGE_READ_AHEAD_BYTES = env.int("EXCHANGE_READ_AHEAD_BYTES", default=8 * 2**20)
EXCHANGE_BACKUP_ROOT = env.path("EXCHANGE_BACKUP_ROOT", default=BASE_DIR / "var" / "backups")
# 1C's file fragments go straight to disk; Django must not buffer them in memory either.
DATA_UPLOAD_MAX_MEMORY_SIZE = env.int("DATA_UPLOAD_MAX_MEMORY_SIZE", default=10 * 1024 * 1024)
FILE_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024

# --- E-mail ----------------------------------------------------------------------------
EMAIL_CONFIG = env.email_url("EMAIL_URL", default="consolemail://")
vars().update(EMAIL_CONFIG)
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", default="shop@localhost")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
SHOP_MANAGER_EMAILS = env.list("SHOP_MANAGER_EMAILS", default=["manager@localhost"])
SHOP_NAME = env("SHOP_NAME", default="Obmen")
SITE_URL = env("SITE_URL", default="http://127.0.0.1:8000")

# --- Security (switched on behind HTTPS) -----------------------------------------------
HTTPS = env.bool("HTTPS", default=False)
if HTTPS:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
    # 1C 7.7 and some 8.x builds cannot follow a redirect on POST; keep the exchange on
    # whatever scheme the node is configured with.
    SECURE_REDIRECT_EXEMPT = [r"^exchange/?$", r"^bitrix/admin/1c_exchange\.php$"]
    SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=False)
    SECURE_HSTS_PRELOAD = False
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True

# --- Cache -----------------------------------------------------------------------------
CACHES = {"default": env.cache("CACHE_URL", default="locmemcache://obmen")}

# --- Logging ---------------------------------------------------------------------------
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", default="INFO")},
}
