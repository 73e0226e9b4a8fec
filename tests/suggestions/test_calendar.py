"""The working-day calendar: edited in the admin or loaded for a year, and what a change sets off."""
import datetime as dt
import io

import chinese_calendar
import pytest
from django.core.management import call_command
from django.urls import reverse

from audit.models import AuditEntry
from suggestions import deadlines, workflow
from suggestions.calendar_admin import calendar_changed
from suggestions.models import Event, Notification, WorkCalendarDay
from tests.base import make_user


@pytest.fixture(autouse=True)
def _fresh_calendar():
    deadlines.clear_cache()
    yield
    deadlines.clear_cache()


@pytest.fixture
def admin_client(client, people):
    admin = make_user("root")
    admin.is_staff = admin.is_superuser = True
    admin.save()
    client.force_login(admin)
    return client


def change_url(day):
    return reverse("admin:suggestions_workcalendarday_change", args=[day.isoformat()])


def lead(s):
    return s.assignments.get(role="lead")


def test_it_recomputes_the_open_deadlines_an_admin_edit_moves(admin_client, people):
    open_item = lead(people.assigned("2025001", on=dt.date(2025, 3, 3)))
    replied = lead(people.replied("2025002", on=dt.date(2025, 3, 3)))
    later = lead(people.assigned("2025003", on=dt.date(2025, 3, 10)))
    assert open_item.due_date == replied.due_date == dt.date(2025, 6, 3)
    r = admin_client.post(change_url(dt.date(2025, 6, 3)), {"name": "临时休假"})  # unchecked: a day off
    assert r.status_code == 302
    assert not deadlines.is_workday(dt.date(2025, 6, 3))
    open_item.refresh_from_db(), replied.refresh_from_db(), later.refresh_from_db()
    assert open_item.due_date == dt.date(2025, 6, 4)
    assert "临时休假" in open_item.due_basis and "2025-06-04" in open_item.due_basis
    [event] = Event.objects.filter(kind=Event.Kind.DEADLINE_CHANGED)
    assert event.assignment_id == open_item.pk and event.data == {"before": "2025-06-03", "after": "2025-06-04"}
    assert event.actor.username == "root"
    assert replied.due_date == dt.date(2025, 6, 3)  # a replied item keeps the deadline it was judged by
    assert later.due_date == dt.date(2025, 6, 10)


def test_it_brings_a_deadline_forward_to_a_new_working_day(admin_client, people):
    # 2025-03-01 + 3 months = Sunday 2025-06-01, in the Dragon Boat holiday (31 May – 2 June).
    a = lead(people.assigned("2025001", on=dt.date(2025, 3, 1)))
    assert a.due_date == dt.date(2025, 6, 3)
    admin_client.post(change_url(dt.date(2025, 6, 1)), {"is_workday": "on", "name": ""})
    a.refresh_from_db()
    assert a.due_date == dt.date(2025, 6, 1)


def test_it_recomputes_when_a_day_is_deleted(admin_client, people):
    a = lead(people.assigned("2025001", on=dt.date(2025, 3, 1)))
    url = reverse("admin:suggestions_workcalendarday_delete", args=["2025-06-02"])
    assert admin_client.post(url, {"post": "yes"}).status_code == 302
    a.refresh_from_db()
    assert a.due_date == dt.date(2025, 6, 2)  # without a row, a Monday is a working day


def test_it_recomputes_extended_deadlines_too(people):
    a = lead(people.assigned("2025001", on=dt.date(2025, 3, 3)))
    ext = workflow.request_extension(a, actor=people.leader, requested_due=dt.date(2025, 7, 15), reason="需协调")
    workflow.decide_extension(ext, actor=people.office, approve=True)
    WorkCalendarDay.objects.filter(date=dt.date(2025, 7, 15)).update(is_workday=False, name="台风停工")
    [moved] = calendar_changed([dt.date(2025, 7, 15)])
    assert moved.pk == a.pk and moved.due_date == dt.date(2025, 7, 16)


def test_it_keeps_the_calendar_for_staff(client, people):
    client.force_login(people.office)
    r = client.get(reverse("admin:suggestions_workcalendarday_changelist"))
    assert r.status_code == 302  # not staff: to the admin's login


def test_it_lists_a_year_in_the_admin(admin_client):
    url = reverse("admin:suggestions_workcalendarday_changelist")
    r = admin_client.get(url, {"year": "2025", "is_workday__exact": "0"})
    assert r.status_code == 200
    days = [dt.date(2025, 1, 1) + dt.timedelta(days=n) for n in range(365)]
    assert r.context["cl"].result_count == sum(not chinese_calendar.is_workday(d) for d in days)


# --- load_calendar --------------------------------------------------------------------------------

def run(*args):
    out, err = io.StringIO(), io.StringIO()
    call_command("load_calendar", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def schedule(tmp_path, text):
    path = tmp_path / "schedule.txt"
    path.write_text(text, encoding="utf-8")
    return str(path)


def test_it_loads_a_new_years_schedule_and_moves_the_deadlines_it_touches(people, tmp_path):
    year = max(deadlines.known_years()) + 1
    moved = lead(people.assigned("2025001", on=dt.date(year - 1, 11, 30)))
    same_day = dt.date(year, 3, 15)
    while same_day.weekday() >= 5:  # a weekday the file leaves alone
        same_day += dt.timedelta(days=1)
    same = lead(people.assigned("2025002", on=same_day.replace(year=year - 1, month=12)))
    assert same.due_date == same_day
    raw = dt.date(year, 2, 28)
    assert str(year) in moved.due_basis and str(year) in same.due_basis  # "not yet entered" caveats
    # Ten days off from the raw date on, and the following Saturday a make-up working day.
    off_until = raw + dt.timedelta(days=9)
    makeup = off_until + dt.timedelta(days=(5 - off_until.weekday()) % 7 or 7)
    path = schedule(tmp_path, f"""# 国务院办公厅关于{year}年部分节假日安排的通知
{year}-01-01,休,元旦

{raw}~{off_until}，休，春节
{makeup}\t班\t春节调休
""")
    out, err = run(path)
    assert err == ""
    days = WorkCalendarDay.objects.filter(date__year=year)
    assert days.count() == (366 if year % 4 == 0 else 365)
    assert days.get(date=dt.date(year, 1, 1)).name == "元旦"
    assert days.get(date=makeup).is_workday and makeup.weekday() == 5
    assert not days.get(date=raw + dt.timedelta(days=3)).is_workday
    plain_saturday = makeup + dt.timedelta(days=7)
    assert not days.get(date=plain_saturday).is_workday and days.get(date=plain_saturday - dt.timedelta(1)).is_workday
    fallback = moved.due_date
    moved.refresh_from_db(), same.refresh_from_db()
    expected = off_until + dt.timedelta(days=1)
    while expected.weekday() >= 5 and expected != makeup:
        expected += dt.timedelta(days=1)
    assert moved.due_date == expected != fallback
    assert "春节" in moved.due_basis and str(year) + " 年节假日安排尚未录入" not in moved.due_basis
    assert Event.objects.filter(kind=Event.Kind.DEADLINE_CHANGED, assignment_id=moved.pk).count() == 1
    # Same day as assumed, explained without the caveat, and no event: nothing moved.
    assert same.due_date == same_day
    assert "尚未录入" not in same.due_basis
    assert not Event.objects.filter(kind=Event.Kind.DEADLINE_CHANGED, assignment_id=same.pk).exists()
    assert "1 open deadlines moved" in out
    assert deadlines.calendar_warning(dt.date(year - 1, 12, 1)) is None
    # Every day written is on the audit trail, as the command's change.
    trail = AuditEntry.objects.filter(model_label="suggestions.workcalendarday", object_id=str(makeup))
    assert [(e.action, e.channel, e.changes["is_workday"]["new"]) for e in trail] == [("create", "command", True)]
    assert AuditEntry.objects.filter(model_label="suggestions.workcalendarday").count() == days.count()


def test_it_refuses_a_schedule_with_mistakes_and_writes_nothing(people, tmp_path):
    year = max(deadlines.known_years()) + 1
    path = schedule(tmp_path, f"""{year}-01-01,休,元旦
{year}-02-30,休,春节
{year}-05-01,放假
{year}-10-01~{year}-09-30,休,国庆节
{year}-01-01,班
{year + 1}-01-02,休,元旦
""")
    with pytest.raises(SystemExit) as exit_:
        run(path)
    assert exit_.value.code == 1
    assert not WorkCalendarDay.objects.filter(date__year=year).exists()


def test_it_names_each_mistake_by_its_line(tmp_path, capsys):
    from suggestions.management.commands.load_calendar import CalendarFileError, parse

    with pytest.raises(CalendarFileError) as e:
        parse("2027-01-01,休,元旦\n2027-02-30,休\n\n2027-05-01,放假\n2027-10-07~2027-10-01,休\n2027-01-01,班\n")
    assert [line.split(":")[0] for line in e.value.args[0]] == ["line 2", "line 4", "line 5", "line 6"]


def test_it_reloads_a_known_year_from_the_package_without_changing_anything(people):
    a = lead(people.assigned("2025001", on=dt.date(2025, 7, 1)))
    before = list(WorkCalendarDay.objects.filter(date__year=2025).values_list("date", "is_workday", "name"))
    out, _ = run("--from-package", "2025")
    assert "0 days changed" in out
    assert list(WorkCalendarDay.objects.filter(date__year=2025).values_list("date", "is_workday", "name")) == before
    a.refresh_from_db()
    assert a.due_date == dt.date(2025, 10, 9)


def test_it_checks_a_schedule_without_writing_on_a_dry_run(people, tmp_path):
    year = max(deadlines.known_years()) + 1
    out, _ = run(schedule(tmp_path, f"{year}-01-01,休,元旦\n"), "--dry-run")
    assert "dry run" in out and not WorkCalendarDay.objects.filter(date__year=year).exists()


def test_it_moves_an_open_return_window_and_leaves_a_closed_one(people):
    # Seven working days after assignment: 2025-06-03 gives 06-04 … 06-12; 2025-05-26 gives 05-27 …
    # 06-05 (the Dragon Boat holiday, 31 May – 2 June, between).
    still_open = lead(people.assigned("2025001", on=dt.date(2025, 6, 3)))
    closed = lead(people.assigned("2025002", on=dt.date(2025, 5, 26)))
    assert (still_open.return_deadline, closed.return_deadline) == (dt.date(2025, 6, 12), dt.date(2025, 6, 5))
    WorkCalendarDay.objects.filter(date=dt.date(2025, 6, 4)).update(is_workday=False, name="台风停工")
    [moved] = calendar_changed([dt.date(2025, 6, 4)], actor=people.office, today=dt.date(2025, 6, 11))
    still_open.refresh_from_db(), closed.refresh_from_db()
    assert moved.pk == still_open.pk and still_open.return_deadline == dt.date(2025, 6, 13)
    assert closed.return_deadline == dt.date(2025, 6, 5)  # its window had closed: it stays closed
    assert (still_open.due_date, closed.due_date) == (dt.date(2025, 9, 3), dt.date(2025, 8, 26))
    [event] = Event.objects.filter(kind=Event.Kind.DEADLINE_CHANGED)
    assert event.assignment_id == still_open.pk and event.actor == people.office
    assert event.data == {"deadline": "return", "before": "2025-06-12", "after": "2025-06-13"}
    assert "2025-06-03" in event.detail and "2025-06-13" in event.detail
    # The department may ask for the return on the day the window now ends.
    workflow.request_return(still_open, actor=people.handler, reason="不属于本部门职责",
                            requested_on=dt.date(2025, 6, 13))


def test_it_tells_the_department_when_its_return_window_moves_or_closes(people, django_capture_on_commit_callbacks):
    moved = lead(people.assigned("2025001", on=dt.date(2025, 6, 3)))  # window to 2025-06-12
    with django_capture_on_commit_callbacks(execute=True):
        WorkCalendarDay.objects.filter(date=dt.date(2025, 6, 4)).update(is_workday=False, name="台风停工")
        calendar_changed([dt.date(2025, 6, 4)], actor=people.office, today=dt.date(2025, 6, 11))
    told = Notification.objects.filter(suggestion=moved.suggestion)
    assert {n.recipient for n in told} == {people.handler, people.leader}
    assert all("2025001" in n.text and "2025-06-13" in n.text and "截止" in n.text for n in told)

    # A Saturday and Sunday made working days bring the end before today: the window has closed.
    closing = lead(people.assigned("2025002", on=dt.date(2025, 6, 3)))
    with django_capture_on_commit_callbacks(execute=True):
        WorkCalendarDay.objects.filter(date__in=[dt.date(2025, 6, 7), dt.date(2025, 6, 8)]).update(
            is_workday=True, name="调休上班")
        calendar_changed([dt.date(2025, 6, 7), dt.date(2025, 6, 8)], actor=people.office, today=dt.date(2025, 6, 12))
    closing.refresh_from_db()
    assert closing.return_deadline < dt.date(2025, 6, 12)
    [note] = Notification.objects.filter(suggestion=closing.suggestion, recipient=people.handler)
    assert "已结束" in note.text and closing.return_deadline.isoformat() in note.text


def test_it_leaves_the_return_window_of_an_item_whose_return_was_asked_alone(people):
    returned = lead(people.assigned("2025001", on=dt.date(2025, 6, 3)))
    workflow.request_return(returned, actor=people.handler, reason="不属于本部门职责", requested_on=dt.date(2025, 6, 5))
    WorkCalendarDay.objects.filter(date=dt.date(2025, 6, 4)).update(is_workday=False, name="台风停工")
    assert calendar_changed([dt.date(2025, 6, 4)], today=dt.date(2025, 6, 11)) == []
    returned.refresh_from_db()
    assert returned.return_deadline == dt.date(2025, 6, 12)
