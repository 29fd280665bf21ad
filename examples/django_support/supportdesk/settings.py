"""Settings of the support desk example: Django on SQLite, KPIs by teamkpi."""

from __future__ import annotations

import os
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent

SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY", "example-only-not-a-secret")
DEBUG = os.environ.get("DJANGO_DEBUG", "1") == "1"
ALLOWED_HOSTS = ["*"]

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.admin",
    "support",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
]

ROOT_URLCONF = "supportdesk.urls"
TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ]
        },
    }
]
WSGI_APPLICATION = "supportdesk.wsgi.application"

DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": os.environ.get("DJANGO_DB", str(BASE_DIR / "db.sqlite3")),
    }
}

USE_TZ = True
TIME_ZONE = "UTC"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- teamkpi --------------------------------------------------------------------------------
# Where teamkpi keeps KPI definitions, assignments and measurements (its own SQLite file, or a
# postgres:// URL for teamkpi.PostgresStore).
TEAMKPI_STORE = os.environ.get("TEAMKPI_STORE", str(BASE_DIR / "teamkpi.sqlite"))
# The zone whose local days are the KPI days (the support desk uses the server's date).
TEAMKPI_TIMEZONE = os.environ.get("TEAMKPI_TIMEZONE", "UTC")
# The support automation: signal handlers can be switched off (tests of unrelated code, bulk
# imports).
DISABLE_SUPPORT_SIGNALS = os.environ.get("DISABLE_SUPPORT_SIGNALS", "0") == "1"
# The support automation: tasks of agents inactive this long are reassigned.
SUPPORT_INACTIVE_HOURS = 6

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "loggers": {"support": {"handlers": ["console"], "level": "INFO"}},
}
# The SLA policy of the support automation's SLA endpoints (business seconds on a 24/7 calendar
# here; give a
# calendar with opening hours to stop the clock outside them).
SUPPORT_SLA_POLICY = {
    "name": "support",
    "calendar": {"timezone": TEAMKPI_TIMEZONE, "always_open": True},
    "pause_statuses": ["pending"],
    "at_risk": {"fraction": 0.8},
    "targets": {
        "urgent": {"first_response": 15 * 60, "next_response": 30 * 60, "resolution": 4 * 3600},
        "high": {"first_response": 3600, "next_response": 3600, "resolution": 8 * 3600},
        "normal": {"first_response": 4 * 3600, "resolution": 24 * 3600},
        "low": {"first_response": 24 * 3600, "resolution": 72 * 3600},
    },
}
