"""Reminders through Celery: a real worker on real Redis delivers a digest, and a broker that is
down never fails a request nor loses a reminder.

The worker test uses Redis database 4 (the reminders' own) on the server of REDIS_URL.
"""
import datetime as dt
import logging
import threading
import time
from urllib.parse import urlsplit, urlunsplit

import pytest
from celery.contrib.testing.worker import start_worker
from celery.signals import task_postrun
from django.core import mail
from django.core.management import call_command
from django.db import connections
from django.urls import reverse

from config.celery_app import app
from suggestions import reminders, tasks
from suggestions.models import Reminder
from tests.base import PASSWORD

DAY = dt.date(2025, 9, 19)  # a Friday, a working day
CLOSED_PORT_BROKER = "redis://127.0.0.1:6390/0"  # nothing listens there: Redis "stopped"


def use_broker(monkeypatch, url):
    """Point the Celery app at `url` for one test, with no connection kept from before."""
    monkeypatch.setattr(app.conf, "broker_url", url)
    monkeypatch.setattr(app.conf, "broker_transport_options", {"socket_connect_timeout": 3, "socket_timeout": 5})
    monkeypatch.setattr(app.conf, "task_always_eager", False)
    monkeypatch.setattr(app.conf, "worker_hijack_root_logger", False)
    monkeypatch.setattr(app, "_pool", None)
    monkeypatch.setattr(app.amqp, "_producer_pool", None)


def items_due(people):
    """One overdue item and one due on DAY, of the handler's and leader's department."""
    return [people.assigned("2025001", on=dt.date(2025, 6, 18)).assignments.get(),
            people.assigned("2025002", on=dt.date(2025, 6, 19)).assignments.get()]


@pytest.mark.django_db(transaction=True)
def test_it_delivers_a_digest_through_a_real_worker_on_redis(require_redis, calendar, people, monkeypatch):
    parts = urlsplit(require_redis)
    url = urlunsplit((parts.scheme, parts.netloc, "/4", "", ""))
    import redis

    redis.Redis.from_url(url).flushdb()
    use_broker(monkeypatch, url)
    items_due(people)
    finished = []

    def done(sender=None, **kwargs):
        if sender is not None and sender.name == tasks.send_reminders.name:
            finished.append(kwargs.get("task_id"))
        connections.close_all()  # the worker thread's connections, so the test database can be dropped

    task_postrun.connect(done, weak=False)
    try:
        with start_worker(app, pool="solo", perform_ping_check=False, loglevel="WARNING", shutdown_timeout=30):
            tasks.send_reminders.delay(DAY.isoformat())
            wait_for(lambda: len(finished) == 1)
            assert sorted(m.to[0] for m in mail.outbox) == ["handler@example.org", "leader@example.org",
                                                             "office@example.org"]
            [digest] = [m for m in mail.outbox if m.to == ["handler@example.org"]]
            assert "2025001" in digest.body and "2025002" in digest.body
            # The broker delivers the same task again (a worker lost before its acknowledgement): no new mail.
            tasks.send_reminders.delay(DAY.isoformat())
            wait_for(lambda: len(finished) == 2)
    finally:
        task_postrun.disconnect(done)
    assert len(mail.outbox) == 3
    assert set(Reminder.objects.values_list("state", flat=True)) == {"sent"}


def wait_for(condition, seconds=30):
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "the worker did not finish in time"
        time.sleep(0.05)


@pytest.mark.django_db(transaction=True)  # requests commit as in production: on_commit runs at once
def test_it_saves_a_step_while_redis_is_down_and_sends_the_reminder_on_the_next_scan(
        client, calendar, people, monkeypatch, caplog):
    use_broker(monkeypatch, CLOSED_PORT_BROKER)
    overdue, due_today = items_due(people)
    assert client.login(username="handler", password=PASSWORD)
    r = client.post(reverse("suggestions:assignment_step", args=[due_today.pk, "accept"]))
    assert r.status_code == 302
    due_today.refresh_from_db()
    assert due_today.state == "handling"

    # The office asks for today's scan: the broker cannot take it; the page says so and does not fail.
    assert client.login(username="office", password=PASSWORD)
    started = time.monotonic()
    with caplog.at_level(logging.WARNING, logger="suggestions.tasks"):
        r = client.post(reverse("suggestions:reminders"), follow=True)
    assert time.monotonic() - started < 10
    assert r.status_code == 200 and "error" in [m.level_tag for m in r.context["messages"]]
    assert "not queued" in caplog.text
    assert mail.outbox == [] and not Reminder.objects.exists()

    # The next scan (the scheduler's, once Redis is back, or the command) sends the reminder.
    call_command("send_reminders", "--date", DAY.isoformat(), stdout=open("/dev/null", "w"))
    [digest] = [m for m in mail.outbox if m.to == ["handler@example.org"]]
    assert "2025002" in digest.body and "2025001" in digest.body


def test_it_logs_rather_than_raises_when_a_task_cannot_be_queued(people, monkeypatch, caplog,
                                                                django_capture_on_commit_callbacks):
    use_broker(monkeypatch, CLOSED_PORT_BROKER)
    with caplog.at_level(logging.WARNING, logger="suggestions.tasks"), \
            django_capture_on_commit_callbacks(execute=True) as callbacks:
        queued = tasks.enqueue(tasks.send_reminders, DAY.isoformat())
        assert queued.ok is None  # nothing is sent before the transaction commits
    assert len(callbacks) == 1 and queued.ok is False
    assert "broker is unreachable" in caplog.text


def test_it_sends_what_a_lost_worker_left_reserved(people):
    """A worker that reserved the day's reminders and died: the next scan sends them, once."""
    items_due(people)
    reminders.reserve(DAY)
    assert Reminder.objects.filter(state="pending").count() == 5
    call_command("send_reminders", "--date", dt.date(2025, 9, 22).isoformat(), stdout=open("/dev/null", "w"))
    assert len([m for m in mail.outbox if m.to == ["handler@example.org"]]) == 1
    assert not Reminder.objects.filter(state="pending").exists()


@pytest.mark.django_db(transaction=True)
def test_it_sends_each_digest_once_when_workers_scan_at_the_same_time(require_postgres, calendar, people):
    """Four workers (the scheduler's task, a redelivery, two commands) run the same day's scan at once."""
    items_due(people)
    start, errors = threading.Barrier(4), []

    def worker():
        try:
            start.wait()
            reminders.scan(DAY)
        except Exception as e:  # pragma: no cover - reported below
            errors.append(e)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert errors == []
    assert sorted(m.to[0] for m in mail.outbox) == ["handler@example.org", "leader@example.org", "office@example.org"]
    assert Reminder.objects.count() == 5 and set(Reminder.objects.values_list("state", flat=True)) == {"sent"}
