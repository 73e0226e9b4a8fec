"""The handling rules of DOMAIN.md that the workflow enforces beyond its transition table."""
import datetime as dt

import pytest
from django.utils import timezone

from suggestions import workflow
from suggestions.choices import AssignmentState, SuggestionState
from suggestions.models import Assignment, Event, Feedback, OutcomeRecord, Reply
from suggestions.workflow import SUGGESTION_MOVES, TRANSITIONS, WorkflowError
from tests.suggestions.test_workflow_transitions import MOVES, ROLE_STATES, assignment_in, snapshot

A, S = AssignmentState, SuggestionState
MONDAY = dt.date(2025, 3, 3)


def handling(people, co=(), lead=None, on=MONDAY):
    """A suggestion whose assignments (lead `people.dept` unless given, and `co`) are all accepted."""
    s = people.assigned(lead=lead, co=co, on=on)
    for a in s.assignments.all():
        workflow.accept(a, actor=None, accepted_on=on)
    return s


def contact(people, a, on=MONDAY):
    workflow.add_contact(a, actor=people.handler, method="visit", contacted_on=on, participants="王代表",
                         summary="上门走访")


def draft(people, a, on, outcome="solved", **kwargs):
    return workflow.draft_reply(a, actor=people.handler, outcome=outcome, body="答复正文", drafted_on=on, **kwargs)


# --- before replying: co-handlers' opinions and a contact with the deputy ---

def test_it_waits_for_a_missing_co_opinion_until_its_deadline(people):
    s = handling(people, co=[people.dept2])
    lead, co = s.assignments.get(role="lead"), s.assignments.get(role="co")
    contact(people, lead)
    assert co.due_date == dt.date(2025, 4, 3)  # received 2025-03-03 + 1 month, a Thursday
    with pytest.raises(WorkflowError, match="区公安分局"):
        draft(people, lead, dt.date(2025, 3, 20))
    with pytest.raises(WorkflowError):
        draft(people, lead, co.due_date)  # on the deadline itself the opinion may still come
    assert not lead.replies.exists()
    reply = draft(people, lead, dt.date(2025, 4, 7))  # the deadline has passed without it
    assert reply.state == "pending"


def test_it_allows_the_reply_once_the_co_opinion_is_sent(people):
    s = handling(people, co=[people.dept2])
    lead, co = s.assignments.get(role="lead"), s.assignments.get(role="co")
    contact(people, lead)
    workflow.send_opinion(co, actor=people.handler2, text="同意，配合做好交通疏导", sent_on=dt.date(2025, 3, 14))
    reply = draft(people, lead, dt.date(2025, 3, 20))
    workflow.sign_reply(reply, actor=people.leader, reply_date=dt.date(2025, 3, 21),
                        document_number="静建函〔2025〕3号")
    s.refresh_from_db()
    assert s.state == S.REPLIED and s.first_replied_on == dt.date(2025, 3, 21)


def test_it_refuses_a_reply_without_a_contact_with_the_deputy(people, settings):
    lead = handling(people).assignments.get()
    with pytest.raises(WorkflowError, match="contact|面商|联系"):
        draft(people, lead, dt.date(2025, 3, 20))
    settings.REQUIRE_CONTACT_BEFORE_REPLY = False
    assert draft(people, lead, dt.date(2025, 3, 20)).state == "pending"


def test_it_also_checks_the_contact_when_signing(people, settings):
    lead = handling(people).assignments.get()
    settings.REQUIRE_CONTACT_BEFORE_REPLY = False
    reply = draft(people, lead, dt.date(2025, 3, 20))
    settings.REQUIRE_CONTACT_BEFORE_REPLY = True
    with pytest.raises(WorkflowError):
        workflow.sign_reply(reply, actor=people.leader, reply_date=dt.date(2025, 3, 21), document_number="x")
    contact(people, lead, dt.date(2025, 3, 21))
    workflow.sign_reply(reply, actor=people.leader, reply_date=dt.date(2025, 3, 21), document_number="x")
    assert Reply.objects.get(pk=reply.pk).state == "sent"


@pytest.mark.parametrize("outcome", ["in_progress", "planned"])
def test_it_needs_a_completion_date_for_in_progress_and_planned(people, outcome):
    lead = handling(people).assignments.get()
    contact(people, lead)
    with pytest.raises(WorkflowError):
        draft(people, lead, dt.date(2025, 3, 20), outcome=outcome)
    reply = draft(people, lead, dt.date(2025, 3, 20), outcome=outcome, completion_date=dt.date(2025, 12, 31))
    assert reply.completion_date == dt.date(2025, 12, 31)


@pytest.mark.parametrize("outcome", ["in_progress", "planned"])
def test_it_needs_a_completion_date_when_a_follow_up_changes_the_outcome_to_in_progress_or_planned(people, outcome):
    a = people.replied(outcome="solved").assignments.get()
    with pytest.raises(WorkflowError):
        workflow.change_outcome(a, actor=people.leader, outcome=outcome, effective_on=dt.date(2025, 5, 1),
                                note="复查发现未完工")
    workflow.change_outcome(a, actor=people.leader, outcome=outcome, effective_on=dt.date(2025, 5, 1),
                            note="复查发现未完工", completion_date=dt.date(2025, 10, 31))
    a.refresh_from_db()
    assert a.outcome == outcome


# --- returning a wrong assignment ---

def test_it_allows_a_return_within_seven_working_days_only(people):
    s = people.assigned(on=MONDAY)
    a = s.assignments.get()
    # 7 working days after Monday 2025-03-03 (no holiday in between) is Wednesday 2025-03-12.
    assert a.return_deadline == dt.date(2025, 3, 12)
    with pytest.raises(WorkflowError, match="2025-03-12"):
        workflow.request_return(a, actor=people.handler, reason="不属我单位职责", requested_on=dt.date(2025, 3, 13))
    a.refresh_from_db()
    assert a.state == A.PENDING and a.version == 1
    workflow.request_return(a, actor=people.handler, reason="不属我单位职责", requested_on=dt.date(2025, 3, 12))
    a.refresh_from_db()
    assert a.state == A.RETURN_REQUESTED


def test_it_counts_the_return_window_in_chinas_working_days(people):
    # Assigned Friday 2025-09-26: Sunday 09-28 is a make-up working day, 10-01..08 are holidays and
    # Saturday 10-11 is a make-up working day: 09-28, 09-29, 09-30, 10-09, 10-10, 10-11, 10-13.
    a = people.assigned(on=dt.date(2025, 9, 26)).assignments.get()
    assert a.return_deadline == dt.date(2025, 10, 13)


def test_it_keeps_the_returned_assignment_beside_the_new_one(people):
    s = handling(people)
    old = s.assignments.get()
    workflow.request_return(old, actor=people.handler, reason="属公安交警职责", requested_on=dt.date(2025, 3, 5))
    created = workflow.approve_return(old, actor=people.office, reassign_to=[people.dept2],
                                      decided_on=dt.date(2025, 3, 6))
    old.refresh_from_db()
    assert old.state == A.RETURNED and old.return_reason == "属公安交警职责"
    (new,) = created
    assert (new.department, new.role, new.state, new.assigned_on) == (people.dept2, "lead", A.PENDING,
                                                                       dt.date(2025, 3, 6))
    assert new.due_date == dt.date(2025, 6, 6)  # 3 months from the new assignment, a Friday
    assert s.assignments.count() == 2
    s.refresh_from_db()
    assert s.state == S.ASSIGNED
    kinds = list(s.events.order_by("pk").values_list("kind", flat=True))
    assert kinds[-2:] == [Event.Kind.RETURN_APPROVED, Event.Kind.ASSIGNED]
    # The department that returned it no longer works on it; the new one does.
    assert not workflow.allowed(people.handler, "add_progress", old)
    workflow.accept(new, actor=people.handler2, accepted_on=dt.date(2025, 3, 7))


# --- after the reply: re-handling, follow-up, several lead departments ---

def test_it_keeps_the_first_reply_and_outcome_when_rehandling(people):
    s = people.replied(outcome="planned", reply_on=dt.date(2025, 4, 1))
    workflow.record_feedback(s, actor=people.liaison, result="dissatisfied", attitude="basically_satisfied",
                             comments="没有明确实施时间", recorded_on=dt.date(2025, 4, 8))
    workflow.order_rehandling(s, actor=people.office, reason="代表不满意", ordered_on=dt.date(2025, 4, 9))
    a = s.assignments.get()
    assert (a.state, a.due_date) == (A.REHANDLING, dt.date(2025, 5, 9))  # ordered 2025-04-09 + 1 month, a Friday
    second = draft(people, a, dt.date(2025, 4, 25), outcome="solved")
    workflow.sign_reply(second, actor=people.leader, reply_date=dt.date(2025, 4, 28),
                        document_number="静建函〔2025〕8号")
    workflow.record_feedback(s, actor=people.liaison, result="satisfied", attitude="satisfied",
                             recorded_on=dt.date(2025, 5, 6))
    s.refresh_from_db()
    first = a.replies.get(round=1)
    assert (first.state, first.outcome, first.reply_date) == ("sent", "planned", dt.date(2025, 4, 1))
    assert a.replies.get(round=2).outcome == "solved"
    assert list(s.outcome_records.values_list("outcome", "effective_on")) == [
        ("planned", dt.date(2025, 4, 1)), ("solved", dt.date(2025, 4, 28))]
    assert s.outcome == "solved" and s.first_replied_on == dt.date(2025, 4, 1)
    assert list(Feedback.objects.filter(suggestion=s).values_list("result", flat=True)) == [
        "dissatisfied", "satisfied"]


def test_it_gives_each_reopened_lead_the_rehandling_deadline_on_the_next_working_day(people, settings):
    settings.REQUIRE_CONTACT_BEFORE_REPLY = False
    s = handling(people, lead=people.dept, co=[people.dept3])
    workflow.assign(s, actor=people.office, lead=[people.dept2], assigned_on=MONDAY)
    first, second = s.assignments.get(department=people.dept), s.assignments.get(department=people.dept2)
    co = s.assignments.get(department=people.dept3)
    workflow.accept(second, actor=None, accepted_on=MONDAY)
    workflow.send_opinion(co, actor=None, text="同意", sent_on=dt.date(2025, 3, 10))
    for a, on in ((first, dt.date(2025, 3, 28)), (second, dt.date(2025, 3, 31))):
        reply = workflow.draft_reply(a, actor=None, outcome="solved", body="答复正文", drafted_on=on)
        workflow.sign_reply(reply, actor=None, reply_date=on, document_number="静建函〔2025〕6号")
    workflow.record_feedback(s, actor=people.liaison, result="dissatisfied", attitude="satisfied",
                             comments="问题没有解决", recorded_on=dt.date(2025, 4, 1))
    workflow.order_rehandling(s, actor=people.office, reason="代表不满意", ordered_on=dt.date(2025, 4, 1))
    # DOMAIN.md: a new reply is due 1 month after the order, on 2025-05-01; that is Labour Day and
    # 2025-05-01..05 are public holidays, so the deadline moves to Tuesday 2025-05-06.
    for a in (first, second):
        a.refresh_from_db()
        assert (a.state, a.due_date) == (A.REHANDLING, dt.date(2025, 5, 6))
        assert "2025-05-01" in a.due_basis and "2025-05-06" in a.due_basis  # how it was worked out
    co.refresh_from_db()
    assert (co.state, co.due_date) == (A.OPINION_SENT, dt.date(2025, 4, 3))  # the co-handler is not reopened
    assert s.events.get(kind=Event.Kind.REHANDLING).data["due_date"] == "2025-05-06"


def test_it_dates_an_outcome_change_and_keeps_the_earlier_outcome(people):
    s = people.replied(outcome="in_progress", reply_on=dt.date(2025, 4, 1))
    a = s.assignments.get()
    with pytest.raises(WorkflowError):
        workflow.change_outcome(a, actor=people.leader, outcome="solved", effective_on=dt.date(2025, 3, 31),
                                note="已完工")
    with pytest.raises(WorkflowError):
        workflow.change_outcome(a, actor=people.leader, outcome="solved", note="已完工",
                                effective_on=timezone.localdate() + dt.timedelta(days=2))
    workflow.change_outcome(a, actor=people.leader, outcome="solved", effective_on=dt.date(2025, 8, 15),
                            note="跟踪督办：工程已完工")
    s.refresh_from_db()
    assert s.outcome == "solved" and s.state == S.REPLIED
    assert list(s.outcome_records.values_list("outcome", "effective_on", "note")) == [
        ("in_progress", dt.date(2025, 4, 1), ""), ("solved", dt.date(2025, 8, 15), "跟踪督办：工程已完工")]
    event = s.events.get(kind=Event.Kind.OUTCOME_CHANGED)
    assert timezone.localtime(event.at).date() == dt.date(2025, 8, 15)
    assert (event.data["before"], event.data["after"]) == ("in_progress", "solved")


def test_it_replies_a_split_item_only_when_every_lead_has_replied(people):
    s = handling(people, lead=people.dept)
    workflow.assign(s, actor=people.office, lead=[people.dept2], assigned_on=MONDAY)
    first, second = s.assignments.get(department=people.dept), s.assignments.get(department=people.dept2)
    workflow.accept(second, actor=people.handler2, accepted_on=MONDAY)
    contact(people, first)
    workflow.add_contact(second, actor=people.handler2, method="phone", contacted_on=MONDAY, participants="王代表",
                         summary="电话沟通")
    reply = draft(people, first, dt.date(2025, 4, 1), outcome="solved")
    workflow.sign_reply(reply, actor=people.leader, reply_date=dt.date(2025, 4, 2), document_number="静建函〔2025〕5号")
    s.refresh_from_db()
    assert s.state == S.HANDLING and s.outcome == "" and s.first_replied_on is None
    assert not OutcomeRecord.objects.filter(suggestion=s).exists()
    reply = workflow.draft_reply(second, actor=people.handler2, outcome="planned", body="列入明年计划",
                                 completion_date=dt.date(2026, 6, 30), drafted_on=dt.date(2025, 4, 10))
    workflow.sign_reply(reply, actor=people.leader2, reply_date=dt.date(2025, 4, 11),
                        document_number="静公函〔2025〕2号")
    s.refresh_from_db()
    # Counted with its least advanced part, replied when the last part was.
    assert (s.state, s.outcome, s.first_replied_on) == (S.REPLIED, "planned", dt.date(2025, 4, 11))
    assert s.replied_on_time is True and s.awaiting_feedback is True


# --- feedback ---

@pytest.mark.parametrize(("result", "attitude"), [("dissatisfied", "satisfied"), ("satisfied", "dissatisfied")])
def test_it_needs_comments_with_a_dissatisfied_rating(people, result, attitude):
    s = people.replied()
    with pytest.raises(WorkflowError):
        workflow.record_feedback(s, actor=people.liaison, result=result, attitude=attitude, comments="  ",
                                 recorded_on=dt.date(2025, 4, 10))
    assert not Feedback.objects.exists()
    workflow.record_feedback(s, actor=people.liaison, result=result, attitude=attitude, comments="现场仍有积水",
                             recorded_on=dt.date(2025, 4, 10))
    s.refresh_from_db()
    assert Feedback.objects.get().comments == "现场仍有积水" and not s.awaiting_feedback


# --- a withdrawn suggestion, and the timeline ---

ASSIGNMENT_MOVES = [action for action in TRANSITIONS if action not in SUGGESTION_MOVES]


@pytest.mark.parametrize("action", ASSIGNMENT_MOVES)
def test_it_refuses_every_assignment_move_on_a_withdrawn_suggestion(people, action, settings):
    settings.REQUIRE_CONTACT_BEFORE_REPLY = False
    state, role = ROLE_STATES[action]
    a = assignment_in(people, state, role)
    assert workflow.allowed(None, action, a)  # the move would be possible…
    workflow.withdraw(a.suggestion, actor=people.office, reason="代表申请撤回")
    a = Assignment.objects.get(pk=a.pk)
    before = snapshot(a)
    with pytest.raises(WorkflowError):  # …but not once the suggestion is withdrawn
        MOVES[action](people, a, None)
    assert snapshot(a) == before


def test_it_refuses_to_assign_a_withdrawn_suggestion(people):
    s = people.suggestion()
    workflow.withdraw(s, actor=people.office, reason="代表申请撤回", withdrawn_on=dt.date(2025, 3, 1))
    with pytest.raises(WorkflowError):
        workflow.assign(s, actor=people.office, lead=[people.dept], assigned_on=MONDAY)
    assert not Assignment.objects.exists()
    assert timezone.localtime(s.events.get(kind=Event.Kind.WITHDRAWN).at).date() == dt.date(2025, 3, 1)


def test_it_never_rewrites_an_event(people):
    s = people.assigned()
    event = s.events.get(kind=Event.Kind.ASSIGNED)
    event.detail = "改写的记录"
    with pytest.raises(ValueError, match="append-only"):
        event.save()
    assert Event.objects.get(pk=event.pk).detail == ""
