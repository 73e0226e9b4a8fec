"""The daily reminder scan (催办): who must hear about which deadline, told exactly once.

What is found. On a scan day D, an open assignment (lead or co; pending, handling, re-handling or
return requested; the suggestion not withdrawn) is reminded when its deadline is N working days
away for N in `settings.REMINDER_THRESHOLDS` (default 10, 5, 2, 0) or already past. The target
deadlines are worked out first on the calendar (the N-th working day after D), so finding the items
is one query: due date in that set or before D. Every handler and leader of the assignment's
department gets ONE digest a day listing all their items; every coordinator gets one overdue
summary a day. Each digest goes out as an e-mail (when the user has an address) and as an in-app
notification (always).

How it is sent once and only once. Sending is split into steps, each its own short transaction:

1. Reserve. One `INSERT … SELECT … ON CONFLICT DO NOTHING` writes a `Reminder` row per (recipient,
   assignment, threshold, D), and one row per coordinator and D for the summary, in the state
   `pending`. The unique constraints make this idempotent: a second scan of the same day, a second
   worker scanning at the same time, or a redelivered task inserts nothing new.
2. Claim. For one recipient, a single conditional `UPDATE` moves their claimable rows (`pending`,
   or `sending` with a claim older than `LEASE`) to `sending` under a fresh claim token. The
   database decides between two workers: each row is claimed by exactly one of them, and the loser
   finds nothing to send.
3. Send. The digest is built from the claimed rows and e-mailed, outside any transaction (no lock
   is held while the mail server is slow).
4. Record. One transaction marks the claimed rows `sent` and writes the in-app notification. If
   the rows were meanwhile re-claimed by someone else (our claim expired), nothing is written.

What happens on each failure:
- the mail server refuses or is down: the rows go back to `pending` and are sent by the next scan
  (the Celery task also retries with backoff); after `MAX_EMAIL_ATTEMPTS` the e-mail is given up,
  the rows are marked `failed` and the in-app notification is still written;
- the process dies after reserving or claiming, before sending: the rows stay `pending` or their
  claim expires, and the next scan (or the broker's redelivery of the task) sends them;
- an item replied or withdrawn before its pending reminder goes out: the row is marked `dropped`.
- the process dies in the instant between the mail server accepting the e-mail and step 4
  committing: nobody can know whether it left (no mail protocol can be committed together with a
  database), and the rows are retried when the claim expires. A reminder about a deadline is
  worth more than the rare duplicate, so this is the one case where an e-mail may go out twice; it
  carries the same Message-ID both times, which lets mail systems fold the copies together. The
  in-app notification is written in the same transaction as the `sent` mark, so it is never
  doubled. Nothing is ever lost for good: a row is either `sent`, `failed` (in-app note written),
  `dropped` (no longer open) or will be picked up by a later scan.
"""
import datetime as dt
import hashlib
import logging
import uuid
from dataclasses import dataclass, field

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import EmailMessage, get_connection
from django.db import connections, transaction
from django.db.models import (
    BooleanField,
    Case,
    CharField,
    Count,
    DateField,
    DateTimeField,
    F,
    IntegerField,
    Q,
    Value,
    When,
)
from django.db.models.constants import OnConflict
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from departments.scoping import COORDINATOR

from . import deadlines
from .choices import OPEN_ASSIGNMENT_STATES, AssignmentState, SuggestionState
from .models import Assignment, Notification, Reminder

log = logging.getLogger(__name__)

# A claim older than this is taken to have died with its process; longer than any SMTP timeout,
# shorter than the broker's redelivery of an unacknowledged task (an hour with Redis).
LEASE = dt.timedelta(minutes=10)
SMTP_TIMEOUT = 60
MAX_EMAIL_ATTEMPTS = 5
LIST_LIMIT = 100  # items listed in one digest; the rest are counted
SUMMARY_LIMIT = 20  # overdue items listed in a coordinator's summary

State = Reminder.State
CLOSED_STATES = [s for s in AssignmentState.values if s not in OPEN_ASSIGNMENT_STATES]


@dataclass
class Result:
    """What one scan or delivery did, for the command's output and the task's log."""

    reserved: int = 0
    recipients: int = 0
    emails: int = 0
    notifications: int = 0
    failures: int = 0
    dropped: int = 0
    preview: list = field(default_factory=list)

    def add(self, other):
        for name in ("recipients", "emails", "notifications", "failures", "dropped"):
            setattr(self, name, getattr(self, name) + getattr(other, name))


# --- finding what is due ------------------------------------------------------------------------

def target_dates(day):
    """{deadline: N} for each threshold N: the deadlines that are exactly N working days after `day`."""
    targets = {}
    for n in sorted(set(settings.REMINDER_THRESHOLDS), reverse=True):
        if n >= 0:
            targets[deadlines.add_workdays(day, n) if n else day] = n
    return targets


def open_assignments():
    return (Assignment.objects.filter(state__in=OPEN_ASSIGNMENT_STATES)
            .exclude(suggestion__state=SuggestionState.WITHDRAWN))


def due_items(day):
    """Open assignments whose deadline is a threshold away from `day`, or past."""
    return open_assignments().filter(Q(due_date__in=list(target_dates(day))) | Q(due_date__lt=day))


def overdue_items(day):
    return open_assignments().filter(due_date__lt=day)


def _threshold(day):
    whens = [When(due_date__lt=day, then=Value(Reminder.OVERDUE))]
    whens += [When(due_date=date, then=Value(n)) for date, n in target_dates(day).items()]
    return Case(*whens, output_field=IntegerField())


def _digest_rows(day):
    """(recipient, assignment, threshold) of every digest line of `day`: items joined to their
    department's active members, in one query."""
    return (due_items(day).filter(department__memberships__user__is_active=True)
            .annotate(r_recipient=F("department__memberships__user_id"), r_threshold=_threshold(day))
            # Rows in key order: two scans inserting at once wait for each other instead of deadlocking.
            .order_by("r_recipient", "pk"))


def _coordinators():
    return get_user_model().objects.filter(groups__name=COORDINATOR, is_active=True).distinct()


# --- step 1: reserve ----------------------------------------------------------------------------

def _insert_select(model, columns, queryset):
    """`INSERT INTO model (columns) SELECT …`, skipping rows that break a unique constraint: the
    same statement `bulk_create(ignore_conflicts=True)` writes, fed by a query instead of a list."""
    conn = connections[queryset.db]
    ops = conn.ops
    fields = [model._meta.get_field(c) for c in columns]
    select, params = queryset.query.get_compiler(queryset.db).as_sql()
    sql = "{} {} ({}) {} {}".format(
        ops.insert_statement(on_conflict=OnConflict.IGNORE), ops.quote_name(model._meta.db_table),
        ", ".join(ops.quote_name(f.column) for f in fields), select,
        ops.on_conflict_suffix_sql(fields, OnConflict.IGNORE, None, None))
    with conn.cursor() as cursor:
        cursor.execute(sql, params)
        return max(cursor.rowcount, 0)


# The columns `reserve` fills, in the order of its SELECT (`values_list` keeps the order it is given;
# tests/suggestions/test_reminders.py checks what lands in each column).
_COLUMNS = ("recipient", "assignment", "kind", "threshold", "scan_date", "state", "claim", "attempts", "emailed",
            "error", "created_at")


def reserve(day):
    """Record today's reminders as `pending`; what is already recorded stays as it is."""
    now = timezone.now()
    constants = {
        "r_kind": Value(Reminder.Kind.DIGEST, output_field=CharField()),
        "r_date": Value(day, output_field=DateField()),
        "r_state": Value(State.PENDING, output_field=CharField()),
        "r_claim": Value("", output_field=CharField()),
        "r_attempts": Value(0, output_field=IntegerField()),
        "r_emailed": Value(False, output_field=BooleanField()),
        "r_error": Value("", output_field=CharField()),
        "r_created": Value(now, output_field=DateTimeField()),
    }
    rows = _digest_rows(day).annotate(**constants).values_list(
        "r_recipient", "pk", "r_kind", "r_threshold", "r_date", "r_state", "r_claim", "r_attempts", "r_emailed",
        "r_error", "r_created")
    with transaction.atomic():
        count = _insert_select(Reminder, _COLUMNS, rows)
        if overdue_items(day).exists():
            summaries = [Reminder(recipient_id=pk, kind=Reminder.Kind.SUMMARY, threshold=Reminder.OVERDUE,
                                  scan_date=day, created_at=now)
                         for pk in _coordinators().order_by("pk").values_list("pk", flat=True)]
            before = Reminder.objects.filter(kind=Reminder.Kind.SUMMARY, scan_date=day).count()
            Reminder.objects.bulk_create(summaries, ignore_conflicts=True)
            count += Reminder.objects.filter(kind=Reminder.Kind.SUMMARY, scan_date=day).count() - before
    return count


def preview(day):
    """What a scan of `day` finds, per recipient, without writing anything (`--dry-run`)."""
    users = {u.pk: u for u in get_user_model().objects.filter(
        pk__in=_digest_rows(day).values("r_recipient")).order_by("username")}
    counts = dict(_digest_rows(day).order_by().values_list("r_recipient").annotate(n=Count("pk"))
                  .values_list("r_recipient", "n"))
    lines = [(users[pk], counts[pk], 0) for pk in users]
    overdue = overdue_items(day).count()
    if overdue:
        lines += [(u, 0, overdue) for u in _coordinators().order_by("username")]
    recorded = Reminder.objects.filter(scan_date=day).exclude(state=State.PENDING).count()
    return lines, recorded


# --- steps 2 to 4: claim, send, record ------------------------------------------------------------

def _claimable(now):
    return Q(state=State.PENDING) | Q(state=State.SENDING, claimed_at__lt=now - LEASE)


def deliver(day, recipient_ids=None):
    """Send every claimable reminder (today's and any a failed run left behind), one digest each."""
    now = timezone.now()
    waiting = Reminder.objects.filter(_claimable(now))
    if recipient_ids is not None:
        waiting = waiting.filter(recipient_id__in=recipient_ids)
    result = Result()
    mail = get_connection(timeout=getattr(settings, "EMAIL_TIMEOUT", None) or SMTP_TIMEOUT)
    try:
        for pk in waiting.values_list("recipient_id", flat=True).distinct().order_by("recipient_id"):
            result.add(deliver_to(pk, day, mail))
    finally:
        mail.close()
    return result


def deliver_to(recipient_id, day, mail=None):
    """Claim one person's waiting reminders, send them as one digest and record it."""
    result = Result()
    now = timezone.now()
    token = uuid.uuid4().hex
    claimed_count = Reminder.objects.filter(_claimable(now), recipient_id=recipient_id).update(
        state=State.SENDING, claim=token, claimed_at=now, attempts=F("attempts") + 1)
    if not claimed_count:
        return result  # another worker has them
    claimed = Reminder.objects.filter(recipient_id=recipient_id, claim=token)
    user = get_user_model().objects.get(pk=recipient_id)
    if user.is_active:  # items replied, returned or withdrawn since they were found are no longer news
        gone = claimed.filter(Q(assignment__state__in=CLOSED_STATES)
                              | Q(assignment__suggestion__state=SuggestionState.WITHDRAWN))
    else:
        gone = claimed
    result.dropped = gone.update(state=State.DROPPED, claim="")
    sending = claimed.filter(state=State.SENDING)
    rows = list(sending.values_list("pk", "kind", "attempts"))
    message = _compose(user, sending, day, with_summary=any(kind == Reminder.Kind.SUMMARY for _, kind, _ in rows))
    if message is None:
        result.dropped += sending.update(state=State.DROPPED, claim="")
        return result
    subject, body = message
    result.recipients = 1
    emailed, error = False, ""
    if user.email:
        try:
            _email(user, subject, body, sorted(pk for pk, _, _ in rows), mail)
            emailed = True
        except Exception as exc:  # the mail server's errors are many; each one means "try again later"
            error = f"{type(exc).__name__}: {exc}"[:300]
            attempts = max(n for _, _, n in rows)
            log.warning("reminder e-mail to %s failed (attempt %s): %s", user.email, attempts, error)
            result.failures = 1
            if attempts < MAX_EMAIL_ATTEMPTS:
                sending.update(state=State.PENDING, claim="", error=error)
                return result
    with transaction.atomic():
        done = sending.update(
            state=State.SENT if emailed or not error else State.FAILED, sent_at=timezone.now(), emailed=emailed,
            error=error)
        if done:
            Notification.objects.create(recipient=user, text=subject[:500], body=body)
            result.notifications = 1
            result.emails = int(emailed)
    return result


def _email(user, subject, body, row_ids, mail):
    # The same rows give the same Message-ID, so a copy re-sent after a crash can be recognised.
    digest = hashlib.sha256(",".join(map(str, row_ids)).encode()).hexdigest()[:20]
    domain = settings.DEFAULT_FROM_EMAIL.rpartition("@")[2] or "localhost"
    EmailMessage(subject, body, settings.DEFAULT_FROM_EMAIL, [user.email], connection=mail,
                 headers={"Message-ID": f"<reminder.{user.pk}.{digest}@{domain}>"}).send()


# --- what the digest says -------------------------------------------------------------------------

def workday_distances(as_of, dues):
    """{due: deadlines.workdays_until(as_of, due)} for many dues, in one walk over the calendar
    each way instead of one walk per due (an overdue list can go back years)."""
    result = {}
    for step in (1, -1):
        count, day = 0, as_of
        for target in sorted((d for d in set(dues) if (d - as_of).days * step >= 0), reverse=step < 0):
            while day != target:
                day += dt.timedelta(days=step)
                if deadlines.is_workday(day):
                    count += step
            result[target] = count
    return result


def status_label(as_of, due, days=None):
    """"3 working days left", "due today", "overdue by 2 working days", counted on the calendar."""
    if days is None:
        days = deadlines.workdays_until(as_of, due)
    if due < as_of:
        days = max(-days, 1)
        return ngettext("overdue by %(n)s working day", "overdue by %(n)s working days", days) % {"n": days}
    if days == 0:
        return _("due today")
    return ngettext("%(n)s working day left", "%(n)s working days left", days) % {"n": days}


def threshold_label(threshold):
    if threshold == Reminder.OVERDUE:
        return _("overdue")
    if threshold == 0:
        return _("due today")
    return ngettext("%(n)s working day before", "%(n)s working days before", threshold) % {"n": threshold}


def _lines(assignments, as_of):
    assignments = list(assignments)
    distances = workday_distances(as_of, [a.due_date for a in assignments])
    return [_line(a, as_of, distances[a.due_date]) for a in assignments]


def _line(a, as_of, days):
    return {"number": a.suggestion.number, "title": a.suggestion.title, "department": a.department.name,
            "role": a.get_role_display(), "due": a.due_date, "status": status_label(as_of, a.due_date, days),
            "deadline": _("reply due") if a.is_lead else _("opinion due"),
            "overdue": a.due_date < as_of,
            "url": settings.SITE_URL + reverse("suggestions:detail", args=[a.suggestion_id])}


def _compose(user, rows, as_of, with_summary=False):
    """(subject, body) of one person's digest (with the district's overdue summary when asked), or
    None when nothing in it is still to be said."""
    with translation.override(settings.LANGUAGE_CODE):
        listed = (Assignment.objects.filter(pk__in=rows.filter(assignment__isnull=False).values("assignment_id"))
                  .select_related("suggestion", "department").order_by("due_date", "suggestion__number", "pk"))
        total = listed.count()
        items = _lines(listed[:LIST_LIMIT], as_of)
        summary = _summary(as_of) if with_summary else None
        if not items and summary is None:
            return None
        if items:
            subject = ngettext("Deadline reminder %(date)s: %(n)s item (%(overdue)s overdue)",
                               "Deadline reminder %(date)s: %(n)s items (%(overdue)s overdue)", total) % {
                "date": as_of.isoformat(), "n": total, "overdue": listed.filter(due_date__lt=as_of).count()}
        else:
            subject = ngettext("Overdue summary %(date)s: %(n)s item overdue",
                               "Overdue summary %(date)s: %(n)s items overdue", summary["count"]) % {
                "date": as_of.isoformat(), "n": summary["count"]}
        body = render_to_string("suggestions/reminders_email.txt", {
            "user": user, "as_of": as_of, "items": items, "more": total - len(items), "summary": summary,
            "site_url": settings.SITE_URL, "reminders_url": settings.SITE_URL + reverse("suggestions:reminders"),
        })
        return subject, body


def _summary(as_of):
    """The coordinators' overdue summary: counts per department, and the longest overdue items."""
    overdue = overdue_items(as_of)
    count = overdue.count()
    if not count:
        return None
    oldest = _lines(overdue.select_related("suggestion", "department").order_by("due_date", "pk")[:SUMMARY_LIMIT],
                    as_of)
    return {"count": count, "oldest": oldest, "more": count - len(oldest),
            "departments": list(overdue.values_list("department__name").annotate(n=Count("pk"))
                                .order_by("-n", "department__name"))}


# --- the scan -------------------------------------------------------------------------------------

def scan(day, dry_run=False):
    """The daily scan as if today were `day`: reserve its reminders, then send whatever is waiting."""
    if dry_run:
        lines, recorded = preview(day)
        return Result(preview=lines, reserved=recorded)
    reserved = reserve(day)
    result = deliver(day)
    result.reserved = reserved
    log.info("reminders for %s: %s recorded, %s digests, %s e-mails, %s failed", day, reserved,
             result.notifications, result.emails, result.failures)
    return result
