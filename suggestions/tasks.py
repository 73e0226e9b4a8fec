"""Celery tasks of the suggestions app (autodiscovered by config.celery_app)."""
import datetime as dt
import logging

from celery import shared_task
from django.db import DatabaseError, transaction
from django.utils import timezone

from . import deadlines, reminders
from .spreadsheets import run_export_job, run_import_job  # noqa: F401  (the browser's import and export jobs)

log = logging.getLogger(__name__)
MAX_RETRIES = 6


class DeliveryFailed(Exception):
    """Some digests could not be e-mailed; their reminders wait, `pending`, for the retry."""


def _backoff(retries):
    """1, 2, 4 … minutes, at most an hour: a mail server that is down is given time to come back."""
    return min(60 * 2 ** retries, 3600)


@shared_task(name="suggestions.send_reminders", bind=True, ignore_result=True, acks_late=True,
             max_retries=MAX_RETRIES)
def send_reminders(self, day=None):
    """The daily reminder scan. Scheduled without a date, it runs on working days only; with a date
    (`YYYY-MM-DD`: a retry, or the office's "send now") it scans that day. Safe to run again: what
    was already sent is not sent twice (see `suggestions.reminders`)."""
    if day is None:
        today = timezone.localdate()
        if not deadlines.is_workday(today):
            log.info("reminders: %s is not a working day, nothing sent", today)
            return None
        day = today
    else:
        day = dt.date.fromisoformat(day)
    retry = {"args": (day.isoformat(),), "countdown": _backoff(self.request.retries)}
    try:
        result = reminders.scan(day)
    except DatabaseError as exc:
        raise self.retry(exc=exc, **retry) from exc
    if result.failures:
        raise self.retry(exc=DeliveryFailed(f"{result.failures} digests not e-mailed"), **retry)
    return None


class Queued:
    """Whether a task reached the broker; known once the transaction that asked for it commits."""

    ok = None


def enqueue(task, *args):
    """Send `task` to the workers after the current transaction commits. A broker that cannot be
    reached is logged, never raised: the request that asked goes on, and the daily scan catches up."""
    queued = Queued()

    def send():
        try:
            # One attempt to connect (kombu would otherwise retry for seconds while the user waits).
            with task.app.connection_for_write(transport_options={"max_retries": 0}) as connection:
                task.apply_async(args=args, retry=False, connection=connection)
            queued.ok = True
        except Exception:  # kombu raises whatever the transport raises: OSError, OperationalError …
            queued.ok = False
            log.warning("task %s not queued: the broker is unreachable", task.name, exc_info=True)

    transaction.on_commit(send)
    return queued
