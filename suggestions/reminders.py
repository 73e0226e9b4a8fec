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
2. Claim. Recipients are taken a batch at a time: their waiting rows, their items and the users
   are read in three queries and each digest is composed in memory. Then one conditional `UPDATE`
   moves the rows of a chunk of digests, those still claimable, to `sending`, each digest under a
   fresh claim token, counting the attempt. The database decides between two workers: each row is
   claimed by exactly one of them, and the loser finds nothing to send (or, for rows taken in
   between, sends only what it holds). This commit is also the record of the attempt: from it on,
   an e-mail may have left.
3. Send. The digest is e-mailed outside any transaction (no lock is held while the mail server is
   slow), over one connection for the whole scan, with a Message-ID derived from the unique keys
   of its rows: the same rows always make the same Message-ID.
4. Record. One transaction per chunk marks the claimed rows `sent` and writes the in-app
   notifications. Rows meanwhile re-claimed by someone else (our claim expired) are theirs to record.
   A chunk's e-mails not sent within half the lease wait for the next scan, so a claim is always
   recorded before it expires.

What happens on each failure:
- the mail server refuses or is down: the rows go back to `pending` and are sent by the next scan
  (the Celery task also retries with backoff); after `MAX_EMAIL_ATTEMPTS` the e-mail is given up,
  the rows are marked `failed` and the in-app notification is still written;
- the process dies after reserving, before claiming: the rows stay `pending`, and the next scan (or
  the broker's redelivery of the task) sends them;
- an item replied or withdrawn before its pending reminder goes out: the row is marked `dropped`;
- the crash after claiming, before step 4 commits (the process dies, or the database fails the
  record): whether an e-mail left is unknown, since no mail protocol commits together with a
  database. The rows stay `sending`: released at once when the record failed in a living process,
  otherwise when their claim expires (`LEASE`). The next scan then sends them again as the same
  message: the same rows, with no new ones merged in (and kept together if the mail server refuses
  them then), so the same Message-ID, by which mail systems fold the copies into one; the rows
  say so on the reminders page. A reminder about a deadline is worth more than the rare second
  copy, so this is as close to exactly-once as SMTP allows. The in-app notification is written in
  the same transaction as the `sent` mark, so it is never doubled. Nothing is ever lost for good:
  a row is either `sent`, `failed` (in-app note written), `dropped` (no longer open) or will be
  picked up by a later scan.
"""
import contextlib
import datetime as dt
import hashlib
import itertools
import logging
import time
import uuid
from dataclasses import dataclass, field
from operator import attrgetter

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import EmailMessage, get_connection
from django.db import DatabaseError, connections, transaction
from django.db.models import (
    BigIntegerField,
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
from django.db.models.functions import Cast
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from departments.scoping import COORDINATOR

from . import deadlines
from .choices import OPEN_ASSIGNMENT_STATES, AssignmentRole, AssignmentState, SuggestionState
from .models import Assignment, Notification, Reminder

log = logging.getLogger(__name__)

# A claim older than this is taken to have died with its process; longer than any SMTP timeout,
# shorter than the broker's redelivery of an unacknowledged task (an hour with Redis).
LEASE = dt.timedelta(minutes=10)
SMTP_TIMEOUT = 60
MAX_EMAIL_ATTEMPTS = 5
LIST_LIMIT = 100  # items listed in one digest; the rest are counted
SUMMARY_LIMIT = 20  # overdue items listed in a coordinator's summary
BATCH = 200  # recipients whose digests are composed from one set of queries
CHUNK = 50  # digests claimed together, then recorded together
CHUNK_ROWS = 10000  # at most this many rows in one claim (SQLite takes at most 32,766 parameters)
SEND_SECONDS = LEASE.total_seconds() / 2  # a chunk's e-mails not sent by then wait: its claim never expires

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
    def rows(queryset, recipient, assignment, kind, threshold):
        constants = {
            "r_kind": Value(kind, output_field=CharField()),
            "r_date": Value(day, output_field=DateField()),
            "r_state": Value(State.PENDING, output_field=CharField()),
            "r_claim": Value("", output_field=CharField()),
            "r_attempts": Value(0, output_field=IntegerField()),
            "r_emailed": Value(False, output_field=BooleanField()),
            "r_error": Value("", output_field=CharField()),
            "r_created": Value(timezone.now(), output_field=DateTimeField()),
        }
        return queryset.annotate(**constants).values_list(
            recipient, assignment, "r_kind", threshold, "r_date", "r_state", "r_claim", "r_attempts", "r_emailed",
            "r_error", "r_created")

    with transaction.atomic():
        count = _insert_select(Reminder, _COLUMNS, rows(_digest_rows(day), "r_recipient", "pk", Reminder.Kind.DIGEST,
                                                        "r_threshold"))
        if overdue_items(day).exists():
            coordinators = _coordinators().order_by("pk").annotate(
                r_none=Cast(Value(None), output_field=BigIntegerField()),  # typed, or PostgreSQL takes it for text
                r_overdue=Value(Reminder.OVERDUE, output_field=IntegerField()))
            count += _insert_select(Reminder, _COLUMNS, rows(coordinators, "pk", "r_none", Reminder.Kind.SUMMARY,
                                                             "r_overdue"))
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
    """Rows nobody is sending: waiting, released after a failed record, or held by a claim that expired."""
    return (Q(state=State.PENDING) | Q(state=State.SENDING, claimed_at__isnull=True)
            | Q(state=State.SENDING, claimed_at__lt=now - LEASE))


@dataclass(eq=False)
class Digest:
    """One e-mail to send: the reminder rows it answers for, what it says, and how its sending went."""

    user: object
    rows: list
    as_of: dt.date
    interrupted: bool = False  # an earlier delivery of these rows may have left: send the same message again
    items: list = field(default_factory=list)
    message: tuple = None  # (subject, body)
    token: str = ""
    emailed: bool = False
    error: str = ""
    note: str = ""

    @property
    def pks(self):
        return [r.pk for r in self.rows]

    @property
    def with_summary(self):
        return any(r.kind == Reminder.Kind.SUMMARY for r in self.rows)

    @property
    def message_id(self):
        """The same rows give the same Message-ID, so a copy sent again after a crash is one message
        to the mail systems that fold duplicates together. Derived from the rows' unique keys."""
        keys = sorted(f"{r.kind}:{r.assignment_id or ''}:{r.threshold}:{r.scan_date}" for r in self.rows)
        digest = hashlib.sha256(f"{self.user.pk}|{'|'.join(keys)}".encode()).hexdigest()[:24]
        domain = settings.DEFAULT_FROM_EMAIL.rpartition("@")[2] or "localhost"
        return f"<reminder.{self.user.pk}.{max(r.scan_date for r in self.rows):%Y%m%d}.{digest}@{domain}>"


class Mailer:
    """One connection to the mail server for the whole scan, reopened after a failure."""

    def __init__(self):
        self.connection = get_connection(timeout=getattr(settings, "EMAIL_TIMEOUT", None) or SMTP_TIMEOUT)

    def send(self, message):
        self.connection.open()  # a no-op while open: every digest goes over the same connection
        try:
            message.connection = self.connection
            message.send()
        except Exception:
            self.close()  # the connection may be half dead: the next digest opens a new one
            raise

    def close(self):
        try:
            self.connection.close()
        except Exception:  # closing a connection the server already dropped
            log.debug("closing the mail connection failed", exc_info=True)


def deliver(day, recipient_ids=None):
    """Send every claimable reminder (today's and any a failed run left behind), one digest each.

    Recipients are taken BATCH at a time: their waiting rows, their items and the users are read in
    three queries and their digests composed in memory. The digests are then claimed, e-mailed and
    recorded CHUNK at a time: one `UPDATE` claims a chunk, one transaction records it.
    """
    waiting = Reminder.objects.filter(_claimable(timezone.now()))
    if recipient_ids is not None:
        waiting = waiting.filter(recipient_id__in=recipient_ids)
    recipients = list(waiting.values_list("recipient_id", flat=True).distinct().order_by("recipient_id"))
    result, texts, mail = Result(), Texts(), Mailer()
    try:
        for start in range(0, len(recipients), BATCH):
            digests, dropped = _digests(recipients[start:start + BATCH], day, texts)
            result.dropped += dropped
            for chunk in _chunks(digests):
                result.add(_deliver_chunk(chunk, mail, texts))
    finally:
        mail.close()
    return result


_ROW_FIELDS = ("pk", "recipient_id", "assignment_id", "kind", "threshold", "scan_date", "state", "claim",
               "claimed_at", "attempts")


def _digests(recipient_ids, day, texts):
    """The digests waiting for these recipients, composed, and how many rows were dropped as no
    longer news."""
    now = timezone.now()
    waiting = Reminder.objects.filter(_claimable(now), recipient_id__in=recipient_ids)
    rows = list(waiting.order_by("recipient_id", "pk").values_list(*_ROW_FIELDS, named=True))
    users = get_user_model().objects.in_bulk({r.recipient_id for r in rows})
    # A subquery, not the list of ids: a batch can name more items than a query may have parameters.
    items = {a.pk: a for a in item_rows(Assignment.objects.filter(pk__in=waiting.values("assignment_id")))}
    digests, gone = [], []
    for recipient_id, mine in itertools.groupby(rows, key=attrgetter("recipient_id")):
        user = users[recipient_id]
        fresh, interrupted = [], {}
        for r in mine:
            if r.assignment_id and r.assignment_id not in items:
                continue  # claimed by another worker since it was read: theirs to send
            if r.state == State.SENDING:  # its e-mail may have left: it goes again only as that message
                interrupted.setdefault(r.claim, []).append(r)
            elif not user.is_active or _closed(items.get(r.assignment_id)):
                gone.append(r.pk)  # replied, returned or withdrawn since it was found: no longer news
            else:
                fresh.append(r)
        for group in interrupted.values():
            if not user.is_active or all(r.assignment_id and _closed(items.get(r.assignment_id)) for r in group):
                gone += [r.pk for r in group]
            else:
                digests.append(Digest(user, group, max(r.scan_date for r in group), interrupted=True))
        if fresh:
            # Dated by its rows, not by the delivery day: rows left from a day the mail server was down
            # make the same e-mail (Message-ID, subject, text) whenever it goes, and again after a crash.
            digests.append(Digest(user, fresh, max(r.scan_date for r in fresh)))
    for d in digests:
        d.items = sorted({r.assignment_id: items[r.assignment_id] for r in d.rows if r.assignment_id}.values(),
                         key=lambda a: (a.due_date, a.number, a.pk))
        d.message = texts.compose(d.user, d.items, d.as_of, d.with_summary)
        if d.message is None:  # a summary of a day whose overdue items have all been settled meanwhile
            gone += d.pks
    dropped = 0
    for start in range(0, len(gone), CHUNK_ROWS):
        dropped += Reminder.objects.filter(_claimable(now), pk__in=gone[start:start + CHUNK_ROWS]).update(
            state=State.DROPPED, claim="")
    return [d for d in digests if d.message is not None], dropped


def _chunks(digests):
    """CHUNK digests at a time (fewer when they hold over CHUNK_ROWS rows: a claim lists its rows),
    each recipient at most once in a chunk (its claim tells the digests apart by recipient)."""
    chunk, rows = [], 0
    for d in digests:
        if chunk and (len(chunk) == CHUNK or rows + len(d.rows) > CHUNK_ROWS
                      or any(c.user.pk == d.user.pk for c in chunk)):
            yield chunk
            chunk, rows = [], 0
        chunk.append(d)
        rows += len(d.rows)
    if chunk:
        yield chunk


def _closed(item):
    return item is not None and (item.state in CLOSED_STATES or item.suggestion_state == SuggestionState.WITHDRAWN)


def _deliver_chunk(digests, mail, texts):
    """Claim, e-mail and record some digests; a claim is always recorded well before it expires."""
    result = Result()
    now = timezone.now()
    # Step 2, which is also the record of the attempt: from this commit on an e-mail may have left,
    # and its rows go out again only as this same message.
    with translation.override(settings.LANGUAGE_CODE):
        note = _("An earlier delivery was interrupted before it was recorded: this e-mail was sent with the same "
                 "Message-ID, again if it had already left.")
    for d in digests:
        d.token = uuid.uuid4().hex
        d.note = note if d.interrupted else ""
    fresh = [pk for d in digests if not d.interrupted for pk in d.pks]
    again = [pk for d in digests if d.interrupted for pk in d.pks]
    notes = [When(recipient=d.user.pk, then=Value(d.note)) for d in digests if d.note]
    claimed = Reminder.objects.filter(
        Q(pk__in=fresh, state=State.PENDING, claim="")
        | Q(Q(claimed_at__isnull=True) | Q(claimed_at__lt=now - LEASE), pk__in=again, state=State.SENDING)
    ).update(state=State.SENDING, claimed_at=now, attempts=F("attempts") + 1,
             claim=Case(*[When(recipient=d.user.pk, then=Value(d.token)) for d in digests]),
             error=Case(*notes, default=F("error")) if notes else F("error"))
    tokens = {d.token: d for d in digests}
    if claimed < sum(len(d.rows) for d in digests):  # another worker took some meanwhile: keep only ours
        digests = _ours(digests, texts)
        tokens = {d.token: d for d in digests}
    # Step 3, within a time well inside the claim's lease; what is not sent by then waits.
    budget = time.monotonic() + SEND_SECONDS
    unsent = []
    for d in digests:
        if time.monotonic() > budget:
            unsent.append(d)
        elif d.user.email:
            try:
                _email(d.user, *d.message, d.message_id, mail)
                d.emailed = True
            except Exception as exc:  # the mail server's errors are many; each one means "try again later"
                d.error = f"{type(exc).__name__}: {exc}"[:300]
                log.warning("reminder e-mail to %s failed: %s", d.user.email, d.error)
    # Step 4.
    try:
        result.add(_record(digests, tokens, unsent))
    except DatabaseError:
        # The e-mails left but are not recorded. Release the rows at once so the next scan sends the
        # same messages again instead of waiting for the claim to expire; if even that fails, it expires.
        with contextlib.suppress(DatabaseError):
            _held(digests, tokens).update(claimed_at=None)
        raise
    return result


def _held(digests, tokens):
    """The rows these digests' claims still hold: found by state and recipient (an index), and the
    token (ours only)."""
    return Reminder.objects.filter(state=State.SENDING, recipient__in=[d.user.pk for d in digests],
                                   claim__in=list(tokens))


def _ours(digests, texts):
    """The digests cut down to the rows our claim got, composed anew; those left empty are gone."""
    held = dict(_held(digests, {d.token for d in digests}).values_list("pk", "claim"))
    kept = []
    for d in digests:
        rows = [r for r in d.rows if held.get(r.pk) == d.token]
        if len(rows) < len(d.rows):
            d.rows = rows
            d.items = [a for a in d.items if a.pk in {r.assignment_id for r in rows}]
            d.message = texts.compose(d.user, d.items, d.as_of, d.with_summary) if rows else None
            if rows and d.message is None:
                Reminder.objects.filter(pk__in=d.pks, claim=d.token).update(state=State.DROPPED, claim="")
        if d.message is not None:
            kept.append(d)
    return kept


@transaction.atomic
def _record(digests, tokens, unsent):
    """Mark what was sent `sent` with its in-app notification, and what was not sent waiting again
    (or `failed` after MAX_EMAIL_ATTEMPTS, notified in the app), in one transaction."""
    result = Result()
    # Locked: a claim that expired and was taken over by another worker is theirs to record.
    held = set(_held(digests, tokens).select_for_update().values_list("claim", flat=True))
    now = timezone.now()
    unsent = {d.token for d in unsent}
    notify, groups = [], {}
    for d in digests:
        if d.token not in held:
            continue
        if d.token in unsent or (d.error and max(r.attempts for r in d.rows) + 1 < MAX_EMAIL_ATTEMPTS):
            # Not sent, or refused by the mail server: the Celery task retries. Rows that may have
            # left before stay together to go again as the same message; others join the next digest.
            key = ("wait", d.interrupted, d.token in unsent, d.error)
            result.failures += 1
        else:
            key = ("done", State.FAILED if d.error else State.SENT, d.emailed, d.error or d.note)
            result.failures += bool(d.error)
            result.recipients += 1
            result.emails += d.emailed
            notify.append(Notification(recipient=d.user, text=d.message[0][:500], body=d.message[1],
                                       created_at=now))
        groups.setdefault(key, []).append(d)
    for key, group in groups.items():
        if key[0] == "done":
            _, state, emailed, text = key
            outcome = {"state": state, "sent_at": now, "emailed": emailed, "error": text}
        else:
            _, together, unsent_, error = key
            outcome = ({"claimed_at": None} if together else {"state": State.PENDING, "claim": ""})
            outcome.update({"attempts": F("attempts") - 1} if unsent_ else {"error": error})
        _held(group, {d.token for d in group}).update(**outcome)
    Notification.objects.bulk_create(notify)
    result.notifications = len(notify)
    return result


def _email(user, subject, body, message_id, mail):
    mail.send(EmailMessage(subject, body, settings.DEFAULT_FROM_EMAIL, [user.email],
                           headers={"Message-ID": message_id}))


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


def item_rows(assignments):
    """The assignments as light rows carrying what a digest line says (no model instances: a scan
    reads tens of thousands)."""
    return (assignments.annotate(number=F("suggestion__number"), title=F("suggestion__title"),
                                 department_name=F("department__name"), suggestion_state=F("suggestion__state"))
            .values_list("pk", "suggestion_id", "role", "state", "due_date", "number", "title", "department_name",
                         "suggestion_state", named=True))


# An item of a digest, laid out here rather than in the template: a scan lists tens of thousands of
# items to hundreds of people, and each is formatted once (its words are translated pieces).
ITEM_TEXT = "{number} {title}\n   {department} · {role} · {deadline} {due} · {status}\n   {url}"


class Texts:
    """What the digests of one scan say. An item is in the digest of every member of its department
    and the overdue summary in every coordinator's: each line and each summary is worked out once, and
    the words a line is made of (its role, its kind of deadline, its status, its link) once per scan."""

    def __init__(self):
        self.lines = {}  # (assignment, as_of): line
        self.summaries = {}  # as_of: summary
        self.words = {}  # what _word was asked: its answer
        self.link = None

    def _word(self, key, make):
        if key not in self.words:
            self.words[key] = str(make())
        return self.words[key]

    def _url(self, suggestion_id):
        """The detail page's address: reversed once, then filled in (a scan links tens of thousands)."""
        if self.link is None:
            sample = reverse("suggestions:detail", args=[1])
            self.link = (settings.SITE_URL + sample[:-2]) if sample.endswith("/1/") else False
        if self.link is False:  # a route not shaped as …/<pk>/: reverse each
            return settings.SITE_URL + reverse("suggestions:detail", args=[suggestion_id])
        return f"{self.link}{suggestion_id}/"

    def _line(self, a, as_of, days):
        lead = a.role == AssignmentRole.LEAD
        text = ITEM_TEXT.format(
            number=a.number, title=a.title, department=a.department_name,
            role=self._word(("role", a.role), lambda: AssignmentRole(a.role).label),
            deadline=self._word(("deadline", lead), lambda: _("reply due") if lead else _("opinion due")),
            due=a.due_date.isoformat(),
            status=self._word(("status", as_of, a.due_date), lambda: status_label(as_of, a.due_date, days)),
            url=self._url(a.suggestion_id))
        return {"text": text, "overdue": a.due_date < as_of}

    def lines_of(self, items, as_of):
        missing = [a for a in items if (a.pk, as_of) not in self.lines]
        distances = workday_distances(as_of, [a.due_date for a in missing])
        for a in missing:
            self.lines[a.pk, as_of] = self._line(a, as_of, distances[a.due_date])
        return [self.lines[a.pk, as_of] for a in items]

    def summary(self, as_of):
        """The coordinators' overdue summary: counts per department, and the longest overdue items."""
        if as_of not in self.summaries:
            overdue = overdue_items(as_of)
            count = overdue.count()
            summary = None
            if count:
                oldest = self.lines_of(list(item_rows(overdue.order_by("due_date", "pk")[:SUMMARY_LIMIT])), as_of)
                summary = {"count": count, "oldest": oldest, "more": count - len(oldest),
                           "departments": list(overdue.values_list("department__name").annotate(n=Count("pk"))
                                               .order_by("-n", "department__name"))}
            self.summaries[as_of] = summary
        return self.summaries[as_of]

    def compose(self, user, items, as_of, with_summary=False):
        """(subject, body) of one person's digest of `items` (in the order listed), with the district's
        overdue summary when asked, or None when nothing in it is still to be said."""
        with translation.override(settings.LANGUAGE_CODE):
            summary = self.summary(as_of) if with_summary else None
            if not items and summary is None:
                return None
            total = len(items)
            lines = self.lines_of(items[:LIST_LIMIT], as_of)
            if items:
                subject = ngettext("Deadline reminder %(date)s: %(n)s item (%(overdue)s overdue)",
                                   "Deadline reminder %(date)s: %(n)s items (%(overdue)s overdue)", total) % {
                    "date": as_of.isoformat(), "n": total, "overdue": sum(a.due_date < as_of for a in items)}
            else:
                subject = ngettext("Overdue summary %(date)s: %(n)s item overdue",
                                   "Overdue summary %(date)s: %(n)s items overdue", summary["count"]) % {
                    "date": as_of.isoformat(), "n": summary["count"]}
            body = render_to_string("suggestions/reminders_email.txt", {
                "user": user, "as_of": as_of, "items": lines, "more": total - len(lines), "summary": summary,
                # Numbered here: a template loop over a hundred lines in each of hundreds of digests
                # was a tenth of the scan.
                "numbered_items": "".join(f"\n{n}. {line['text']}\n" for n, line in enumerate(lines, 1)),
                "site_url": settings.SITE_URL, "reminders_url": settings.SITE_URL + reverse("suggestions:reminders"),
            })
            return subject, body


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
