"""Extensions of the reply deadline: asked by the department's leader, decided by the office,
capped at six months from the assignment (moved to a working day), the deputy told; each one an event."""
import datetime as dt

import chinese_calendar
import pytest
from django.core.exceptions import PermissionDenied
from django.urls import reverse

from suggestions import workflow
from suggestions.models import Event, Notification
from tests.base import PASSWORD

ASSIGNED = dt.date(2025, 4, 1)  # + 3 months = 2025-07-01; + 6 months = 2025-10-01, National Day


@pytest.fixture
def item(people):
    return people.assigned(on=ASSIGNED).assignments.get()


def next_workday(day):
    while not chinese_calendar.is_workday(day):
        day += dt.timedelta(days=1)
    return day


def request(item, people, due, reason="需市级部门协调"):
    return workflow.request_extension(item, actor=people.leader, requested_due=due, reason=reason)


def test_it_records_a_leaders_request_and_tells_the_office(people, item, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        ext = request(item, people, dt.date(2025, 8, 29))
    assert Notification.objects.filter(recipient=people.office, suggestion=item.suggestion).count() == 1
    assert ext.state == "pending" and ext.requested_by == people.leader
    [event] = Event.objects.filter(kind=Event.Kind.EXTENSION_REQUESTED)
    assert event.assignment_id == item.pk and event.data == {"requested_due": "2025-08-29"}
    assert event.detail == "需市级部门协调" and event.actor == people.leader
    item.refresh_from_db()
    assert item.due_date == dt.date(2025, 7, 1)  # nothing changes until the office decides


def test_it_caps_an_extension_six_months_from_assignment_moved_to_a_working_day(people, item):
    cap = next_workday(dt.date(2025, 10, 1))
    assert cap == dt.date(2025, 10, 9)
    with pytest.raises(workflow.WorkflowError, match="2025-10-09"):
        request(item, people, cap + dt.timedelta(days=1))
    assert request(item, people, cap).requested_due == cap


@pytest.mark.parametrize("who", ["handler", "leader2", "office"])
def test_it_lets_only_the_departments_leader_ask(people, item, who):
    with pytest.raises(PermissionDenied):
        workflow.request_extension(item, actor=getattr(people, who), requested_due=dt.date(2025, 8, 1), reason="x")
    assert not item.extensions.exists()


def test_it_refuses_a_request_that_does_not_extend_or_has_no_reason(people, item):
    with pytest.raises(workflow.WorkflowError):
        request(item, people, dt.date(2025, 7, 1))
    with pytest.raises(workflow.WorkflowError):
        request(item, people, dt.date(2025, 8, 1), reason="  ")
    request(item, people, dt.date(2025, 8, 1))
    with pytest.raises(workflow.WorkflowError):  # one request at a time
        request(item, people, dt.date(2025, 8, 15))


def test_it_is_for_the_lead_department_only(people):
    s = people.assigned(on=ASSIGNED, co=[people.dept2])
    co = s.assignments.get(department=people.dept2)
    with pytest.raises(workflow.WorkflowError):
        workflow.request_extension(co, actor=people.leader2, requested_due=dt.date(2025, 6, 1), reason="x")


def test_it_puts_an_approved_deadline_in_force_and_records_the_deputys_notice(people, item):
    saturday = dt.date(2025, 8, 30)
    ext = request(item, people, saturday)
    workflow.decide_extension(ext, actor=people.office, approve=True, deputy_notified_on=dt.date(2025, 6, 20),
                              note="同意延期")
    ext.refresh_from_db(), item.refresh_from_db()
    assert ext.state == "approved" and ext.decided_by == people.office and ext.decided_at
    assert ext.granted_due == item.due_date == next_workday(saturday) == dt.date(2025, 9, 1)
    assert ext.deputy_notified_on == dt.date(2025, 6, 20)
    assert "2025-08-30" in item.due_basis and "2025-09-01" in item.due_basis
    [event] = Event.objects.filter(kind=Event.Kind.EXTENSION_APPROVED)
    assert event.data == {"due_date": "2025-09-01", "deputy_notified_on": "2025-06-20"}
    assert event.detail == "同意延期"


def test_it_records_the_deputys_notice_as_today_when_not_given(people, item):
    from django.utils import timezone

    ext = request(item, people, dt.date(2025, 8, 29))
    workflow.decide_extension(ext, actor=people.office, approve=True)
    ext.refresh_from_db()
    assert ext.deputy_notified_on == timezone.localdate()


def test_it_keeps_the_deadline_when_refused(people, item):
    ext = request(item, people, dt.date(2025, 8, 29))
    workflow.decide_extension(ext, actor=people.office, approve=False, note="理由不充分")
    ext.refresh_from_db(), item.refresh_from_db()
    assert ext.state == "refused" and ext.granted_due is None and ext.deputy_notified_on is None
    assert item.due_date == dt.date(2025, 7, 1)
    assert Event.objects.filter(kind=Event.Kind.EXTENSION_REFUSED, detail="理由不充分").count() == 1
    with pytest.raises(workflow.WorkflowError):  # decided once
        workflow.decide_extension(ext, actor=people.office, approve=True)


def test_it_lets_only_the_office_decide(people, item):
    ext = request(item, people, dt.date(2025, 8, 29))
    for who in (people.leader, people.handler, people.liaison):
        with pytest.raises(PermissionDenied):
            workflow.decide_extension(ext, actor=who, approve=True)


def test_it_counts_a_reply_within_the_extension_as_on_time(people, item):
    ext = request(item, people, dt.date(2025, 8, 29))
    workflow.decide_extension(ext, actor=people.office, approve=True, deputy_notified_on=dt.date(2025, 6, 20))
    workflow.accept(item, actor=people.handler, accepted_on=ASSIGNED)
    workflow.add_contact(item, actor=people.handler, method="visit", contacted_on=dt.date(2025, 7, 10),
                         participants="王代表", summary="现场查看")
    r = workflow.draft_reply(item, actor=people.handler, outcome="solved", body="已解决")
    workflow.sign_reply(r, actor=people.leader, reply_date=dt.date(2025, 8, 20), document_number="静建函〔2025〕3号")
    r.refresh_from_db()
    assert r.on_time is True and r.due_date == dt.date(2025, 8, 29)
    item.suggestion.refresh_from_db()
    assert item.suggestion.replied_on_time is True


def login(client, user):
    assert client.login(username=user.username, password=PASSWORD)
    return client


def test_it_takes_the_request_and_decision_through_the_pages(client, people, item):
    url = reverse("suggestions:assignment_step", args=[item.pk, "request_extension"])
    prefix = f"request_extension-{item.pk}"
    data = {f"{prefix}-requested_due": "2025-08-29", f"{prefix}-reason": "需协调"}
    assert login(client, people.handler2).post(url, data).status_code == 404
    assert login(client, people.leader).post(url, data).status_code == 302
    ext = item.extensions.get()
    decide = reverse("suggestions:extension_step", args=[ext.pk])
    prefix = f"decide_extension-{ext.pk}"
    decision = {f"{prefix}-approve": "1", f"{prefix}-deputy_notified_on": "2025-06-21"}
    assert login(client, people.leader2).post(decide, decision).status_code == 404
    assert login(client, people.leader).post(decide, decision).status_code == 403
    assert login(client, people.office).post(decide, decision).status_code == 302
    ext.refresh_from_db(), item.refresh_from_db()
    assert ext.deputy_notified_on == dt.date(2025, 6, 21) and item.due_date == dt.date(2025, 8, 29)
