"""Logging in: throttled per account and per address, no user enumeration, sessions that expire and
end everywhere on a password change, and CSRF on the forms."""
import datetime as dt
from unittest import mock

import pytest
from axes.models import AccessAttempt
from django.contrib.auth import get_user_model
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from tests.base import PASSWORD

LOGIN = "/accounts/login/"


@pytest.fixture
def axes_on(settings):
    """Throttling as in production (conftest turns it off for client.login())."""
    settings.AXES_ENABLED = True
    settings.AXES_FAILURE_LIMIT = 5
    settings.AXES_COOLOFF_TIME = dt.timedelta(minutes=15)
    return settings


def attempt(client, username, password, ip="10.1.1.1"):
    return client.post(LOGIN, {"username": username, "password": password}, REMOTE_ADDR=ip)


def logged_in(client):
    return client.get(reverse("suggestions:dashboard")).status_code == 200


def test_it_answers_an_unknown_user_and_a_wrong_password_with_the_same_words(client, people, axes_on):
    unknown = attempt(client, "nobody-here", "whatever-pass")
    wrong = attempt(client, "handler", "whatever-pass", ip="10.1.1.2")
    assert unknown.status_code == wrong.status_code == 200
    assert unknown.context["form"].errors == wrong.context["form"].errors
    assert not logged_in(client)


def test_it_locks_an_account_after_repeated_failures_from_any_address(client, people, axes_on):
    for i in range(4):
        assert attempt(client, "handler", "wrong-pass", ip=f"10.2.0.{i}").status_code == 200
    assert attempt(client, "handler", "wrong-pass", ip="10.2.0.4").status_code == 429  # the 5th locks
    locked = attempt(client, "handler", PASSWORD, ip="10.2.0.99")  # the right password, a new address
    assert locked.status_code == 429 and not logged_in(client)
    # other accounts from those addresses are not affected
    assert attempt(client, "leader", PASSWORD, ip="10.2.0.200").status_code == 302


def test_it_counts_a_very_long_user_name_as_a_failure_and_locks_it(client, people, axes_on):
    """Longer than any account's name and than axes' column (255): a failure like any other, not an
    error of the database (PostgreSQL refuses the over-long value; SQLite does not check)."""
    name = "𠀀" * 300 + "<b>"
    for i in range(4):
        r = attempt(client, name, "wrong-pass", ip=f"10.4.0.{i}")
        assert r.status_code == 200 and "<b>" not in r.content.decode()
    assert attempt(client, name, "wrong-pass", ip="10.4.0.9").status_code == 429
    longest = get_user_model()._meta.get_field("username").max_length
    assert set(AccessAttempt.objects.values_list("username", flat=True)) == {name[:longest]}


def test_it_locks_an_address_that_tries_many_accounts(client, people, axes_on):
    for name in ("a1", "a2", "a3", "a4", "a5"):
        attempt(client, name, "wrong-pass", ip="10.3.3.3")
    assert attempt(client, "office", PASSWORD, ip="10.3.3.3").status_code == 429
    assert attempt(client, "office", PASSWORD, ip="10.3.3.4").status_code == 302


def test_it_unlocks_after_the_cool_off(client, people, axes_on):
    for _ in range(5):
        attempt(client, "handler", "wrong-pass")
    assert attempt(client, "handler", PASSWORD).status_code == 429
    later = timezone.now() + dt.timedelta(minutes=16)
    clocks = ("django.utils.timezone.now", "axes.attempts.now", "axes.handlers.proxy.now")
    with mock.patch(clocks[0], return_value=later), mock.patch(clocks[1], return_value=later), \
            mock.patch(clocks[2], return_value=later):
        assert attempt(client, "handler", PASSWORD).status_code == 302


def test_it_says_the_same_when_locking_an_unknown_and_a_known_account(people, axes_on):
    bodies = []
    for i, name in enumerate(("ghost", "handler")):
        c = Client()
        for _ in range(5):
            attempt(c, name, "wrong-pass", ip=f"10.4.{i}.1")
        r = attempt(c, name, "wrong-pass", ip=f"10.4.{i}.1")
        assert r.status_code == 429
        body = r.content.decode()
        assert name not in body
        bodies.append([line for line in body.splitlines() if "csrfmiddlewaretoken" not in line])
    assert bodies[0] == bodies[1]


def test_it_keeps_the_login_field_names_other_tools_use(client, people):
    page = client.get(LOGIN).content.decode()
    assert 'name="username"' in page and 'name="password"' in page
    assert attempt(client, "office", PASSWORD).status_code == 302 and logged_in(client)


def test_it_validates_new_passwords(client, people):
    client.force_login(people.handler)
    r = client.post(reverse("password_change"), {"old_password": PASSWORD, "new_password1": "12345678",
                                                 "new_password2": "12345678"})
    assert r.status_code == 200 and "new_password2" in r.context["form"].errors
    people.handler.refresh_from_db()
    assert people.handler.check_password(PASSWORD)


def test_it_logs_out_every_other_session_when_the_password_changes(people):
    here, elsewhere = Client(), Client()
    assert here.login(username="handler", password=PASSWORD)
    assert elsewhere.login(username="handler", password=PASSWORD)
    assert logged_in(here) and logged_in(elsewhere)
    page = here.get(reverse("password_change"))
    assert page.status_code == 200 and "base.html" in [t.name for t in page.templates]
    r = here.post(reverse("password_change"), {"old_password": PASSWORD, "new_password1": "Jing'an-2025-new",
                                               "new_password2": "Jing'an-2025-new"})
    assert r.status_code == 302 and r["Location"] == reverse("password_change_done")
    assert here.get(r["Location"]).status_code == 200
    assert logged_in(here)
    r = elsewhere.get(reverse("suggestions:dashboard"))
    assert r.status_code == 302 and r["Location"].startswith(LOGIN)


def test_it_ends_a_session_after_the_inactivity_period(client, people, settings):
    assert settings.SESSION_SAVE_EVERY_REQUEST and settings.SESSION_COOKIE_AGE > 0
    client.force_login(people.handler)
    assert logged_in(client)
    idle = timezone.now() + dt.timedelta(seconds=settings.SESSION_COOKIE_AGE - 60)
    with mock.patch("django.contrib.sessions.backends.db.timezone.now", return_value=idle):
        assert logged_in(client)  # activity before the end renews the session …
    later = idle + dt.timedelta(seconds=settings.SESSION_COOKIE_AGE - 60)
    with mock.patch("django.contrib.sessions.backends.db.timezone.now", return_value=later):
        assert logged_in(client)  # … so it is still open long after the first login
    gone = later + dt.timedelta(seconds=settings.SESSION_COOKIE_AGE + 1)
    with mock.patch("django.contrib.sessions.backends.db.timezone.now", return_value=gone):
        r = client.get(reverse("suggestions:dashboard"))
    assert r.status_code == 302 and r["Location"].startswith(LOGIN)


def test_it_refuses_a_login_with_an_inactive_account_in_the_same_words(client, people):
    get_user_model().objects.filter(pk=people.handler.pk).update(is_active=False)
    inactive = attempt(client, "handler", PASSWORD)
    unknown = attempt(client, "nobody", PASSWORD)
    assert inactive.context["form"].errors == unknown.context["form"].errors


def test_it_throttles_the_admin_login_too(client, people, axes_on):
    people.office.is_staff = True
    people.office.save()
    for _ in range(5):
        client.post("/admin/login/", {"username": "office", "password": "wrong-pass"}, REMOTE_ADDR="10.5.5.5")
    r = client.post("/admin/login/", {"username": "office", "password": PASSWORD}, REMOTE_ADDR="10.5.5.6")
    assert r.status_code == 429
    assert client.get("/admin/").status_code == 302  # not logged in
