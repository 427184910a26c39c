"""Settings of the test project. SESSIOND_URL is set by each test (override_settings) to the
sessiond it started on a free loopback port."""

from __future__ import annotations

SECRET_KEY = "only-for-the-tests-of-sessiond-client"
DEBUG = False
ALLOWED_HOSTS = ["testserver", "127.0.0.1", "localhost"]

INSTALLED_APPS = [
    "django.contrib.contenttypes",
    "django.contrib.auth",
]

MIDDLEWARE = [
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
]

ROOT_URLCONF = "djangoproject.urls"

DATABASES = {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"}}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # fast, for tests only

USE_TZ = True
TIME_ZONE = "UTC"

# The switch from django-redis sessions (SESSION_ENGINE = "django.contrib.sessions.backends.cache").
SESSION_ENGINE = "sessiond_client.django"
SESSIOND_URL = "http://127.0.0.1:8080"
SESSIOND_API_KEY = None
SESSIOND_TIMEOUT = 2.0
SESSIOND_FAIL_OPEN = False

LOGGING_CONFIG = None  # leave logging to pytest (caplog)
