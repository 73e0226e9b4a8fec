"""The daily reminder scan (催办): what it finds, whom it tells, and that it tells them once.

The scan day is Friday 2025-09-19. On the State Council's 2025 calendar the working days after it
are 22, 23, 24, 25, 26 September, Sunday 28 September (a make-up day), 29, 30 September, then
(after National Day, 1–8 October) 9 and 10 October: so 2 working days away is 2025-09-23, 5 is
2025-09-26 and 10 is 2025-10-10.
"""
import datetime as dt
from smtplib import SMTPServerDisconnected

import chinese_calendar
import pytest
from django.contrib.auth import get_user_model
from django.core import mail
from django.core.mail.backends.base import BaseEmailBackend
from django.core.management import call_command
from django.db import OperationalError, connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone, translation

from config.celery_app import app
from suggestions import deadlines, reminders, tasks, workflow
from suggestions.models import Notification, Reminder
from tests.base import PASSWORD

pytestmark = pytest.mark.django_db

DAY = dt.date(2025, 9, 19)
# The reply deadline (3 months after assignment) of each item, and what the scan must make of it.
DUE = {"2025101": (dt.date(2025, 10, 10), 10), "2025102": (dt.date(2025, 9, 26), 5),
       "2025103": (dt.date(2025, 9, 23), 2), "2025104": (dt.date(2025, 9, 19), 0),
       "2025105": (dt.date(2025, 9, 18), Reminder.OVERDUE), "2025106": (dt.date(2025, 9, 1), Reminder.OVERDUE)}
QUIET = {"2025107": dt.date(2025, 9, 24), "2025108": dt.date(2025, 10, 9)}  # 3 and 9 working days away


@pytest.fixture(autouse=True)
def _fresh_calendar():
    deadlines.clear_cache()  # another test may have left an edited calendar in the cache


def assign(people, number, due, **kwargs):
    """An item of dept whose reply deadline is `due` (assigned three months earlier)."""
    s = people.assigned(number, on=due.replace(month=due.month - 3), **kwargs)
    a = s.assignments.get(department=kwargs.get("lead", people.dept))
    assert a.due_date == due
    return a


@pytest.fixture
def items(people):
    return {n: assign(people, n, due) for n, (due, _) in {**DUE, **{k: (v, None) for k, v in QUIET.items()}}.items()}


def mails_to(user):
    return [m for m in mail.outbox if m.to == [user.email]]


def test_it_counts_the_thresholds_on_the_working_day_calendar():
    assert not chinese_calendar.is_workday(dt.date(2025, 10, 1))
    assert chinese_calendar.is_workday(dt.date(2025, 9, 28))  # the package agrees: a make-up Sunday
    assert reminders.target_dates(DAY) == {dt.date(2025, 10, 10): 10, dt.date(2025, 9, 26): 5,
                                           dt.date(2025, 9, 23): 2, DAY: 0}


def test_it_records_one_reminder_per_member_item_and_threshold(people, items):
    reminders.reserve(DAY)
    rows = set(Reminder.objects.values_list("recipient__username", "assignment__suggestion__number", "threshold"))
    expected = {(who, number, threshold) for number, (_, threshold) in DUE.items() for who in ("handler", "leader")}
    summary = set(Reminder.objects.filter(kind="summary").values_list("recipient__username", "threshold"))
    assert rows - {(u, None, t) for u, t in summary} == expected
    assert summary == {("office", Reminder.OVERDUE)}
    assert set(Reminder.objects.values_list("state", "scan_date", "claim", "attempts", "emailed", "sent_at")) == {
        ("pending", DAY, "", 0, False, None)}
    assert set(Reminder.objects.exclude(recipient=people.office).values_list("kind", flat=True)) == {"digest"}
    assert Reminder.objects.filter(created_at__isnull=True).count() == 0


def test_it_sends_each_handler_and_leader_one_digest_of_all_their_items(people, items):
    call_command("send_reminders", "--date", DAY.isoformat(), stdout=open("/dev/null", "w"))
    for user in (people.handler, people.leader):
        [message] = mails_to(user)
        for number in DUE:
            assert number in message.body
        for number in QUIET:
            assert number not in message.body
        assert "2025-10-10" in message.body and reverse("suggestions:detail", args=[items["2025101"].suggestion_id]) \
            in message.body
        [note] = Notification.objects.filter(recipient=user)
        assert note.body == message.body and note.text == message.subject
    assert mails_to(people.handler2) == mails_to(people.leader2) == mails_to(people.liaison) == []
    [summary] = mails_to(people.office)
    assert "2025105" in summary.body and "2025106" in summary.body and "2025104" not in summary.body
    assert len(mail.outbox) == 3


def test_it_sends_nothing_more_when_run_again(people, items):
    for _ in range(3):
        call_command("send_reminders", "--date", DAY.isoformat(), stdout=open("/dev/null", "w"))
    assert len(mail.outbox) == 3
    assert Notification.objects.count() == 3
    assert set(Reminder.objects.values_list("state", flat=True)) == {"sent"}


def test_it_sends_the_next_days_reminders_the_next_day(people, items):
    reminders.scan(DAY)
    reminders.scan(dt.date(2025, 9, 22))
    [first, second] = mails_to(people.handler)
    # On Monday 2025-09-22 the 2025104 item is overdue and 2025107 (due 09-24) is 2 working days away.
    assert "2025107" in second.body and "2025107" not in first.body
    assert Reminder.objects.filter(recipient=people.handler, assignment=items["2025107"], threshold=2,
                                   scan_date=dt.date(2025, 9, 22)).exists()


def test_it_reminds_co_handling_departments_of_their_opinion_deadline(people):
    s = people.assigned("2025201", on=dt.date(2025, 8, 19), co=[people.dept2])
    co = s.assignments.get(department=people.dept2)
    assert co.due_date == DAY  # one month after receipt
    reminders.scan(DAY)
    [message] = mails_to(people.handler2)
    assert "2025201" in message.body
    assert Reminder.objects.get(recipient=people.leader2).assignment == co


def test_it_leaves_out_replied_withdrawn_and_returned_items(people):
    replied = people.replied("2025301", on=dt.date(2025, 6, 18), reply_on=dt.date(2025, 7, 1))
    withdrawn = people.assigned("2025302", on=dt.date(2025, 6, 18))
    workflow.withdraw(withdrawn, actor=people.office, reason="代表撤回")
    back = people.assigned("2025303", on=dt.date(2025, 9, 15))
    a = back.assignments.get()
    workflow.request_return(a, actor=people.handler, reason="不属于本部门职责", requested_on=dt.date(2025, 9, 16))
    workflow.approve_return(a, actor=people.office, decided_on=dt.date(2025, 9, 17))
    assert replied.assignments.get().due_date < DAY
    reminders.scan(DAY)
    assert mail.outbox == [] and not Reminder.objects.exists()


def test_it_tells_users_without_an_address_in_the_app(people, items):
    get_user_model().objects.filter(pk=people.leader.pk).update(email="")
    reminders.scan(DAY)
    assert mails_to(people.handler) and len([m for m in mail.outbox if m.to == [""]]) == 0
    note = Notification.objects.get(recipient=people.leader)
    assert "2025101" in note.body
    assert set(Reminder.objects.filter(recipient=people.leader).values_list("state", "emailed")) == {("sent", False)}
    reminders.scan(DAY)
    assert Notification.objects.filter(recipient=people.leader).count() == 1


def test_it_drops_a_waiting_reminder_whose_item_was_replied_meanwhile(people):
    a = assign(people, "2025401", dt.date(2025, 9, 23))
    reminders.reserve(DAY)
    workflow.accept(a, actor=people.handler)
    workflow.add_contact(a, actor=people.handler, method="phone", contacted_on=dt.date(2025, 9, 1),
                         participants="王代表", summary="电话沟通")
    r = workflow.draft_reply(a, actor=people.handler, outcome="solved", body="已解决")
    workflow.sign_reply(r, actor=people.leader, document_number="静建函〔2025〕9号")
    result = reminders.deliver(DAY)
    assert mail.outbox == [] and result.dropped == 2
    assert set(Reminder.objects.values_list("state", flat=True)) == {"dropped"}


class DownBackend(BaseEmailBackend):
    """A mail server that is down."""

    def send_messages(self, messages):
        raise SMTPServerDisconnected("connection refused")


def test_it_keeps_the_reminders_when_the_mail_server_is_down_and_sends_them_next_time(people, items, settings):
    settings.EMAIL_BACKEND = f"{__name__}.DownBackend"
    result = reminders.scan(DAY)
    assert result.failures == 3 and result.notifications == 0
    assert set(Reminder.objects.values_list("state", flat=True)) == {"pending"}
    assert "SMTPServerDisconnected" in Reminder.objects.first().error
    assert not Notification.objects.exists()
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    reminders.scan(dt.date(2025, 9, 19))
    assert len(mail.outbox) == 3 and Notification.objects.count() == 3


def test_it_gives_up_the_email_after_repeated_failures_but_still_notifies(people, items, settings):
    settings.EMAIL_BACKEND = f"{__name__}.DownBackend"
    for _ in range(reminders.MAX_EMAIL_ATTEMPTS):
        reminders.scan(DAY)
    assert set(Reminder.objects.values_list("state", flat=True)) == {"failed"}
    assert Notification.objects.filter(recipient=people.handler).count() == 1
    reminders.scan(DAY)
    assert Notification.objects.filter(recipient=people.handler).count() == 1


def test_it_retries_a_claim_whose_process_died_but_not_one_still_in_progress(people, items):
    reminders.reserve(DAY)
    stale = timezone.now() - reminders.LEASE - dt.timedelta(minutes=1)
    Reminder.objects.filter(recipient=people.handler).update(state="sending", claim="dead", claimed_at=stale)
    Reminder.objects.filter(recipient=people.leader).update(state="sending", claim="busy", claimed_at=timezone.now())
    reminders.deliver(DAY)
    assert len(mails_to(people.handler)) == 1
    assert mails_to(people.leader) == []  # another worker holds these: it sends them
    assert set(Reminder.objects.filter(recipient=people.leader).values_list("state", flat=True)) == {"sending"}


@pytest.mark.parametrize("chunk", [1, reminders.CHUNK])
def test_it_sends_once_when_a_second_worker_arrives_after_the_first_claimed(people, items, monkeypatch, chunk):
    monkeypatch.setattr(reminders, "CHUNK", chunk)  # 1: the first worker has claimed only its first digest
    reminders.reserve(DAY)
    other = []
    original = reminders._email

    def other_worker_runs_meanwhile(user, *args):
        if not other:  # while the first worker is e-mailing its first digest, a second one scans
            other.append(None)
            other[0] = reminders.deliver(DAY)
        return original(user, *args)

    monkeypatch.setattr(reminders, "_email", other_worker_runs_meanwhile)
    first = reminders.deliver(DAY)
    assert (first.emails, other[0].emails) == ((1, 2) if chunk == 1 else (3, 0))
    assert len(mail.outbox) == 3 and Notification.objects.count() == 3
    assert sorted(m.to[0] for m in mail.outbox) == sorted(u.email for u in (people.handler, people.leader,
                                                                             people.office))


class Killed(BaseException):
    """The worker process dies (SIGKILL, out of memory): nothing after this line runs."""


def fail_recording_once(monkeypatch, exc):
    """The e-mails are accepted by the mail server, then recording them as sent fails, once."""
    real, failed = Notification.objects.bulk_create, []

    def bulk_create(objs, *args, **kwargs):
        if not failed:
            failed.append(objs)
            raise exc
        return real(objs, *args, **kwargs)

    monkeypatch.setattr(Notification.objects, "bulk_create", bulk_create)


def message_ids():
    return sorted(m.extra_headers["Message-ID"] for m in mail.outbox)


def test_it_sends_the_same_messages_again_when_recording_sent_emails_fails(client, people, items, monkeypatch):
    fail_recording_once(monkeypatch, OperationalError("server closed the connection unexpectedly"))
    with pytest.raises(OperationalError):
        reminders.scan(DAY)
    first = {m.extra_headers["Message-ID"]: m for m in mail.outbox}
    assert len(first) == 3  # they left, but are not recorded
    assert set(Reminder.objects.values_list("state", flat=True)) == {"sending"}
    assert not Notification.objects.exists()
    reminders.scan(DAY)  # the next scan sends them again, each as the same message
    assert len(mail.outbox) == 6 and message_ids() == sorted([*first, *first])
    for m in mail.outbox[3:]:
        sent = first[m.extra_headers["Message-ID"]]
        assert (m.subject, m.body, m.to) == (sent.subject, sent.body, sent.to)
    assert Notification.objects.count() == 3  # the in-app notes are written once
    assert set(Reminder.objects.values_list("state", "attempts")) == {("sent", 2)}
    reminders.scan(DAY)  # a normal scan after that sends nothing
    assert len(mail.outbox) == 6 and Notification.objects.count() == 3
    # The office sees which e-mails went out twice.
    r = login(client, people.office).get(reverse("suggestions:reminders"))
    assert "同一 Message-ID" in r.content.decode()


def test_it_sends_the_digests_again_once_the_claim_of_a_dead_worker_expires(people, items, monkeypatch):
    fail_recording_once(monkeypatch, Killed())
    with pytest.raises(Killed):
        reminders.scan(DAY)
    first = message_ids()
    reminders.scan(DAY)  # within the lease: the worker might still be alive, its rows wait for it
    assert len(mail.outbox) == 3 and set(Reminder.objects.values_list("state", flat=True)) == {"sending"}
    Reminder.objects.update(claimed_at=timezone.now() - reminders.LEASE - dt.timedelta(minutes=1))
    reminders.scan(DAY)
    assert message_ids() == sorted(first * 2)
    assert set(Reminder.objects.values_list("state", flat=True)) == {"sent"} and Notification.objects.count() == 3


def test_it_sends_an_interrupted_message_alone_not_merged_with_the_next_days(people, items, monkeypatch):
    fail_recording_once(monkeypatch, OperationalError("disk full"))
    with pytest.raises(OperationalError):
        reminders.scan(DAY)
    [first] = mails_to(people.handler)
    reminders.scan(dt.date(2025, 9, 22))
    resent, monday = mails_to(people.handler)[1:]
    assert resent.extra_headers["Message-ID"] == first.extra_headers["Message-ID"] and resent.body == first.body
    assert monday.extra_headers["Message-ID"] != first.extra_headers["Message-ID"] and "2025-09-22" in monday.subject
    assert "2025107" in monday.body and "2025107" not in resent.body


def test_it_keeps_an_interrupted_message_together_while_the_mail_server_refuses_it(people, items, monkeypatch,
                                                                                 settings):
    fail_recording_once(monkeypatch, OperationalError("disk full"))
    with pytest.raises(OperationalError):
        reminders.scan(DAY)
    first = message_ids()
    settings.EMAIL_BACKEND = f"{__name__}.DownBackend"
    assert reminders.scan(DAY).failures == 3
    assert set(Reminder.objects.values_list("state", flat=True)) == {"sending"}  # together, not merged
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    reminders.scan(dt.date(2025, 9, 22))
    assert set(first) <= set(message_ids()) and len(mail.outbox) == 9  # the same 3 again, and Monday's 3


def test_it_leaves_what_it_could_not_send_in_time_for_the_next_scan(people, items, monkeypatch):
    monkeypatch.setattr(reminders, "SEND_SECONDS", -1)  # a mail server so slow the claim would expire
    assert reminders.scan(DAY).failures == 3
    assert mail.outbox == [] and set(Reminder.objects.values_list("state", "attempts")) == {("pending", 0)}
    monkeypatch.undo()
    reminders.scan(DAY)
    assert len(mail.outbox) == 3 and set(Reminder.objects.values_list("state", "attempts")) == {("sent", 1)}


def test_it_gives_each_digest_a_message_id_from_its_reminders(people, items):
    reminders.scan(DAY)
    reminders.scan(dt.date(2025, 9, 22))
    ids = [m.extra_headers["Message-ID"] for m in mail.outbox]
    assert len(set(ids)) == len(ids) == 6
    assert all(i.startswith("<reminder.") and i.endswith("@localhost>") for i in ids)


def test_it_sends_every_digest_of_a_scan_over_one_connection(people, items, settings):
    settings.EMAIL_BACKEND = f"{__name__}.CountingBackend"
    CountingBackend.opened = 0
    reminders.scan(DAY)
    assert len(mail.outbox) == 3 and CountingBackend.opened == 1


class CountingBackend(BaseEmailBackend):
    """The locmem backend, counting the connections opened."""

    opened = 0

    def open(self):
        if getattr(self, "is_open", False):
            return False
        self.is_open = True
        type(self).opened += 1
        return True

    def close(self):
        self.is_open = False

    def send_messages(self, messages):
        new = self.open()
        mail.outbox.extend(messages)
        if new:
            self.close()
        return len(messages)


def test_it_finds_the_items_with_the_same_queries_for_few_or_many(people):
    def queries(count, start):
        for i in range(count):
            assign(people, f"2025{start + i:03d}", dt.date(2025, 9, 23))
        Reminder.objects.all().delete()
        with CaptureQueriesContext(connection) as ctx:
            reminders.reserve(DAY)
        return len(ctx.captured_queries)

    assert queries(2, 500) == queries(40, 600)
    assert Reminder.objects.filter(threshold=2).count() == 2 * 42


def test_it_writes_nothing_on_a_dry_run(people, items):
    out = []

    class Out:
        def write(self, text):
            out.append(text)

    call_command("send_reminders", "--date", DAY.isoformat(), "--dry-run", stdout=Out())
    assert mail.outbox == [] and not Reminder.objects.exists() and not Notification.objects.exists()
    text = "".join(out)
    assert "handler <handler@example.org>: 6 items" in text and "office" in text


def test_it_refuses_a_malformed_date():
    from django.core.management.base import CommandError

    with pytest.raises(CommandError):
        call_command("send_reminders", "--date", "2025/09/19")


def test_it_labels_each_item_with_what_is_left_on_the_calendar():
    with translation.override("en"):
        assert reminders.status_label(DAY, dt.date(2025, 10, 10)) == "10 working days left"
        assert reminders.status_label(DAY, DAY) == "due today"
        # Due 2025-09-30; 2025-10-09 and 10-10 are the working days since (National Day between).
        assert reminders.status_label(dt.date(2025, 10, 10), dt.date(2025, 9, 30)) == "overdue by 2 working days"


# --- the scheduled task ---------------------------------------------------------------------------

def test_it_is_scheduled_daily_at_the_reminder_hour_in_shanghai(settings):
    entry = settings.CELERY_BEAT_SCHEDULE["send-reminders"]
    assert entry["task"] == tasks.send_reminders.name
    assert entry["schedule"].hour == {settings.REMINDER_HOUR} and entry["schedule"].minute == {settings.REMINDER_MINUTE}
    assert app.conf.timezone == "Asia/Shanghai"


def test_it_skips_days_off_when_run_by_the_scheduler(people, items, monkeypatch):
    monkeypatch.setattr(tasks.timezone, "localdate", lambda: dt.date(2025, 10, 3))  # National Day
    tasks.send_reminders.apply()
    assert mail.outbox == [] and not Reminder.objects.exists()
    monkeypatch.setattr(tasks.timezone, "localdate", lambda: DAY)
    tasks.send_reminders.apply()
    assert len(mail.outbox) == 3


def test_it_retries_the_task_with_backoff_while_the_mail_server_is_down(people, items, settings, monkeypatch):
    settings.EMAIL_BACKEND = f"{__name__}.DownBackend"
    countdowns = []
    original = tasks.send_reminders.retry

    def retry(*args, **kwargs):
        countdowns.append(kwargs["countdown"])
        assert kwargs["args"] == (DAY.isoformat(),)  # a retry after midnight still scans its own day
        return original(*args, **kwargs)

    monkeypatch.setattr(tasks.send_reminders, "retry", retry)
    tasks.send_reminders.apply(args=(DAY.isoformat(),))
    assert countdowns[:3] == [60, 120, 240]
    # Eagerly the retries run at once: after the last e-mail attempt the in-app note is written.
    assert set(Reminder.objects.values_list("state", flat=True)) == {"failed"}
    assert Notification.objects.filter(recipient=people.handler).count() == 1


# --- the page -------------------------------------------------------------------------------------

def login(client, user):
    assert client.login(username=user.username, password=PASSWORD)
    return client


def test_it_shows_coordinators_every_reminder_and_others_their_own(client, people, items):
    reminders.scan(DAY)
    url = reverse("suggestions:reminders")
    r = login(client, people.office).get(url)
    assert r.status_code == 200
    assert {x.recipient_id for x in r.context["page"]} == {people.handler.pk, people.leader.pk, people.office.pk}
    r = login(client, people.handler).get(url)
    assert {x.recipient_id for x in r.context["page"]} == {people.handler.pk}
    assert items["2025101"].suggestion.title[:20] in r.content.decode()
    r = login(client, people.handler2).get(url)
    assert list(r.context["page"]) == []
    assert r.context["states"] and all(n == 0 for _, _, n in r.context["states"])


def test_it_filters_the_page_by_date(client, people, items):
    reminders.scan(DAY)
    reminders.scan(dt.date(2025, 9, 22))
    r = login(client, people.handler).get(reverse("suggestions:reminders"), {"date": "2025-09-22"})
    assert {x.scan_date for x in r.context["page"]} == {dt.date(2025, 9, 22)}


def test_it_lets_only_coordinators_run_the_scan_from_the_page(client, people, items, monkeypatch,
                                                              django_capture_on_commit_callbacks):
    url = reverse("suggestions:reminders")
    assert login(client, people.handler).post(url).status_code == 403
    monkeypatch.setattr(app.conf, "task_always_eager", True)
    monkeypatch.setattr(tasks.timezone, "localdate", lambda: DAY)
    with django_capture_on_commit_callbacks(execute=True):
        r = login(client, people.office).post(url)
    assert r.status_code == 302
    assert len(mail.outbox) == 3


def test_it_sends_anonymous_users_to_login(client):
    r = client.get(reverse("suggestions:reminders"))
    assert r.status_code == 302 and r["Location"].startswith("/accounts/login/")


def test_it_counts_many_distances_in_one_walk_as_one_by_one():
    dues = [dt.date(2023, 1, 2) + dt.timedelta(days=n * 37) for n in range(40)] + [DAY]
    distances = reminders.workday_distances(DAY, dues)
    assert distances == {d: deadlines.workdays_until(DAY, d) for d in dues}


def test_it_drops_the_summary_when_nothing_is_overdue_any_more(people):
    a = assign(people, "2025501", dt.date(2025, 9, 18))
    reminders.reserve(DAY)
    workflow.withdraw(a.suggestion, actor=people.office, reason="代表撤回")
    result = reminders.deliver(DAY)
    assert mail.outbox == [] and not Notification.objects.exists()
    assert result.dropped == 3 and set(Reminder.objects.values_list("state", flat=True)) == {"dropped"}


def test_it_lists_the_longest_overdue_first_and_counts_the_rest(people, items, monkeypatch, settings):
    settings.LANGUAGE_CODE = "en"  # the digest's language
    monkeypatch.setattr(reminders, "LIST_LIMIT", 2)
    reminders.scan(DAY)
    [message] = mails_to(people.handler)
    assert {n for n in DUE if n in message.body} == {"2025105", "2025106"}
    assert message.body.index("2025106") < message.body.index("2025105")  # due 09-01 before due 09-18
    assert message.subject == "Deadline reminder 2025-09-19: 6 items (2 overdue)"
    assert "… and 4 more items." in message.body


def test_rows_left_from_an_earlier_day_make_the_same_message_when_sent_again(people, items, monkeypatch):
    """Friday's reminders that go out on Monday (the mail server was down) are dated by their rows, so a
    resend after a crash on Monday is the same e-mail: Message-ID, subject and text."""
    monday = dt.date(2025, 9, 22)
    reminders.reserve(DAY)
    fail_recording_once(monkeypatch, OperationalError("disk full"))
    with pytest.raises(OperationalError):
        reminders.deliver(monday, recipient_ids=[people.handler.pk])
    reminders.deliver(monday, recipient_ids=[people.handler.pk])
    first, resent = mails_to(people.handler)
    assert resent.extra_headers["Message-ID"] == first.extra_headers["Message-ID"]
    assert (resent.subject, resent.body) == (first.subject, first.body) and DAY.isoformat() in first.subject
