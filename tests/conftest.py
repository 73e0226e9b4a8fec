import importlib
import os

import pytest

from tests.base import Personas


@pytest.fixture
def people(db):
    return Personas.create()


@pytest.fixture
def calendar(db):
    """The calendar seeded by a migration, for transactional tests: one before may have flushed it away."""
    from django.apps import apps

    from suggestions import deadlines
    from suggestions.models import WorkCalendarDay

    if not WorkCalendarDay.objects.exists():
        importlib.import_module("suggestions.migrations.0002_seed_calendar").seed(apps, None)
    deadlines.clear_cache()


def _service(variable, prefix):
    """Skip (or, under REQUIRE_SERVICES=1 as in CI, fail) when a server is not configured."""
    value = os.environ.get(variable, "")
    if not value.startswith(prefix):
        message = f"set {variable}={prefix}… to run this test against a real server"
        if os.environ.get("REQUIRE_SERVICES") == "1":
            pytest.fail(message)
        pytest.skip(message)
    return value


@pytest.fixture
def require_postgres():
    return _service("DATABASE_URL", "postgres")


@pytest.fixture
def require_redis():
    return _service("REDIS_URL", "redis")


@pytest.fixture(autouse=True)
def _empty_cache():
    """Each test starts with an empty cache: a rolled-back test's cached choices must not show in the next."""
    from django.core.cache import cache

    cache.clear()


@pytest.fixture(autouse=True)
def _fast_passwords(settings):
    """Password hashing is deliberately slow; tests do not need it to be."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _no_login_throttling(settings):
    """client.login() authenticates without a request, which django-axes refuses: throttling is off
    in tests, except in tests/trust/test_login.py, which turns it back on to test it."""
    settings.AXES_ENABLED = False
