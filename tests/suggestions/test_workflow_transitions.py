"""Every move of `workflow.TRANSITIONS`: allowed from its source states only, and only to the right people.

A refused move raises and leaves the row, its version and the timeline exactly as they were.
"""
import datetime as dt
import re

import pytest
from django.core.exceptions import PermissionDenied

from suggestions import workflow
from suggestions.choices import AssignmentRole, AssignmentState, SuggestionState
from suggestions.models import Event, ExtensionRequest, Reply
from suggestions.workflow import SUGGESTION_MOVES, TRANSITIONS, WorkflowError

A, S = AssignmentState, SuggestionState
ASSIGNED_ON = dt.date(2025, 3, 3)  # people.assigned(): a Monday; the return window ends 2025-03-12
WITHIN_WINDOW = dt.date(2025, 3, 5)
AFTER_REPLY = dt.date(2025, 4, 10)  # people.replied() replies on 2025-04-01
LEAD_STATES = [A.PENDING, A.RETURN_REQUESTED, A.RETURNED, A.HANDLING, A.REPLIED, A.REHANDLING]
CO_STATES = [A.PENDING, A.RETURN_REQUESTED, A.RETURNED, A.HANDLING, A.OPINION_SENT]


# --- putting a suggestion or an assignment of `people.dept` in a given state, through the workflow ---

def suggestion_in(people, state):
    if state in (S.REPLIED, S.REHANDLING):
        s = people.replied()
        if state == S.REHANDLING:
            workflow.record_feedback(s, actor=people.liaison, result="dissatisfied", attitude="satisfied",
                                     comments="问题没有解决", recorded_on=AFTER_REPLY)
            workflow.order_rehandling(s, actor=people.office, reason="代表不满意", ordered_on=AFTER_REPLY)
    elif state == S.REGISTERED or state == S.WITHDRAWN:
        s = people.suggestion()
        if state == S.WITHDRAWN:
            workflow.withdraw(s, actor=people.office, reason="代表申请撤回")
    else:
        s = people.assigned()
        if state == S.HANDLING:
            workflow.accept(s.assignments.get(), actor=people.handler, accepted_on=ASSIGNED_ON)
    s.refresh_from_db()
    assert s.state == state
    return s


def assignment_in(people, state, role=AssignmentRole.LEAD):
    """An assignment of `people.dept`: as lead of its own suggestion, or as co-handler of dept2's."""
    if role == AssignmentRole.LEAD and state in (A.REPLIED, A.REHANDLING):
        s = suggestion_in(people, S.REPLIED if state == A.REPLIED else S.REHANDLING)
        return s.assignments.get(department=people.dept)
    s = people.assigned(lead=people.dept2 if role == AssignmentRole.CO else people.dept,
                        co=[people.dept] if role == AssignmentRole.CO else ())
    a = s.assignments.get(department=people.dept)
    if state in (A.HANDLING, A.OPINION_SENT):
        workflow.accept(a, actor=people.handler, accepted_on=ASSIGNED_ON)
    if state == A.OPINION_SENT:
        workflow.send_opinion(a, actor=people.handler, text="同意主办单位意见", sent_on=WITHIN_WINDOW)
    if state in (A.RETURN_REQUESTED, A.RETURNED):
        workflow.request_return(a, actor=people.handler, reason="不属我单位职责", requested_on=WITHIN_WINDOW)
    if state == A.RETURNED:
        workflow.approve_return(a, actor=people.office, decided_on=WITHIN_WINDOW)
    a.refresh_from_db()
    assert (a.state, a.role) == (state, role)
    return a


# --- each move, called with arguments that satisfy every rule but the state and the actor ---

def _draft(a):
    """A reply awaiting approval, whatever the assignment's state (the moves on it are what is tested)."""
    return Reply.objects.create(assignment=a, outcome="solved", body="答复正文", document_number="静建函〔2025〕9号")


def _extension(a):
    return ExtensionRequest.objects.create(assignment=a, requested_due=a.due_date + dt.timedelta(days=20),
                                           reason="需协调产权单位")


MOVES = {
    "update": lambda p, s, actor: workflow.update(s, actor=actor, title="关于更新扬招点标识的建议"),
    "assign": lambda p, s, actor: workflow.assign(s, actor=actor, lead=[p.dept3], assigned_on=WITHIN_WINDOW),
    "withdraw": lambda p, s, actor: workflow.withdraw(s, actor=actor, reason="代表申请撤回"),
    "record_feedback": lambda p, s, actor: workflow.record_feedback(
        s, actor=actor, result="satisfied", attitude="satisfied", recorded_on=AFTER_REPLY),
    "order_rehandling": lambda p, s, actor: workflow.order_rehandling(
        s, actor=actor, reason="代表不满意", ordered_on=AFTER_REPLY),
    "accept": lambda p, a, actor: workflow.accept(a, actor=actor, accepted_on=WITHIN_WINDOW),
    "request_return": lambda p, a, actor: workflow.request_return(
        a, actor=actor, reason="不属我单位职责", requested_on=WITHIN_WINDOW),
    "approve_return": lambda p, a, actor: workflow.approve_return(a, actor=actor, decided_on=WITHIN_WINDOW),
    "refuse_return": lambda p, a, actor: workflow.refuse_return(
        a, actor=actor, reason="属你单位职责", decided_on=WITHIN_WINDOW),
    "add_progress": lambda p, a, actor: workflow.add_progress(
        a, actor=actor, text="已现场踏勘", noted_on=WITHIN_WINDOW),
    "add_contact": lambda p, a, actor: workflow.add_contact(
        a, actor=actor, method="phone", contacted_on=WITHIN_WINDOW, participants="王代表", summary="电话沟通"),
    "send_opinion": lambda p, a, actor: workflow.send_opinion(a, actor=actor, text="同意", sent_on=WITHIN_WINDOW),
    "draft_reply": lambda p, a, actor: workflow.draft_reply(
        a, actor=actor, outcome="solved", body="答复正文", drafted_on=WITHIN_WINDOW),
    "sign_reply": lambda p, a, actor: workflow.sign_reply(
        _draft(a), actor=actor, reply_date=max(WITHIN_WINDOW, a.assigned_on)),
    "send_back_reply": lambda p, a, actor: workflow.send_back_reply(_draft(a), actor=actor, reason="请补充完成时限"),
    "request_extension": lambda p, a, actor: workflow.request_extension(
        a, actor=actor, requested_due=a.due_date + dt.timedelta(days=20), reason="需协调产权单位"),
    "decide_extension": lambda p, a, actor: workflow.decide_extension(_extension(a), actor=actor, approve=True),
    "change_outcome": lambda p, a, actor: workflow.change_outcome(
        a, actor=actor, outcome="in_progress", effective_on=AFTER_REPLY, note="复查发现尚未完工",
        completion_date=dt.date(2025, 9, 30)),
    # The supervision app's moves (re-checks, the look-back, supervision notes).
    "reopen_after_recheck": lambda p, s, actor: workflow.reopen_after_recheck(
        s, actor=actor, finding="暗访发现尚未完工", reopened_on=AFTER_REPLY),
    "reassign_for_lookback": lambda p, s, actor: workflow.reassign_for_lookback(
        s, actor=actor, department=p.dept3, assigned_on=AFTER_REPLY, note="回头看重新交办"),
    "record_lookback_outcome": lambda p, s, actor: workflow.record_lookback_outcome(
        s, actor=actor, outcome="in_progress", effective_on=AFTER_REPLY, note="复查发现正在施工",
        completion_date=dt.date(2025, 9, 30)),
    "note_supervision": lambda p, s, actor: workflow.note_supervision(
        s, actor=actor, activity="recheck", label="抽样复查", text="电话回访，代表认可"),
}


def states_to_try(action):
    """(state, role) pairs reachable for the move: lead-only, co-only, or both roles."""
    if action in SUGGESTION_MOVES:
        return [(state, None) for state in S]
    role = TRANSITIONS[action].role
    if role == AssignmentRole.LEAD:
        return [(state, role) for state in LEAD_STATES]
    if role == AssignmentRole.CO:
        return [(state, role) for state in CO_STATES]
    return [(state, AssignmentRole.LEAD) for state in LEAD_STATES] + [(A.OPINION_SENT, AssignmentRole.CO)]


def build(people, action, state, role):
    return suggestion_in(people, state) if action in SUGGESTION_MOVES else assignment_in(people, state, role)


def suggestion_of(obj):
    return obj.suggestion if hasattr(obj, "suggestion_id") else obj


def snapshot(obj):
    """What a refused move must leave untouched: the row's state and version, and the suggestion's timeline."""
    fresh = type(obj).objects.get(pk=obj.pk)
    s = suggestion_of(fresh)
    return (fresh.state, fresh.version, s.state, s.version, s.outcome, Event.objects.filter(suggestion=s).count(),
            s.assignments.count(), Reply.objects.filter(assignment__suggestion=s, state="sent").count())


def expect_refused(people, action, obj, actor, error, match=None):
    before = snapshot(obj)
    with pytest.raises(error, match=match):
        MOVES[action](people, obj, actor)
    assert snapshot(obj) == before


@pytest.fixture(autouse=True)
def _no_contact_rule(settings):
    # The contact-before-reply rule has its own tests (test_workflow_rules.py); here only states and roles count.
    settings.REQUIRE_CONTACT_BEFORE_REPLY = False


CASES = [(action, state, role) for action in TRANSITIONS for state, role in states_to_try(action)]


@pytest.mark.parametrize(("action", "state", "role"), CASES,
                         ids=[f"{a}-{s}-{r or 'suggestion'}" for a, s, r in CASES])
def test_it_allows_a_move_from_its_source_states_only(people, action, state, role):
    obj = build(people, action, state, role)
    move = TRANSITIONS[action]
    if state not in move.sources:
        expect_refused(people, action, obj, None, WorkflowError)
        return
    version, timeline = obj.version, Event.objects.filter(suggestion=suggestion_of(obj))
    events = timeline.count()
    MOVES[action](people, obj, None)
    fresh = type(obj).objects.get(pk=obj.pk)
    assert timeline.count() > events
    if move.target:
        assert fresh.state == move.target and fresh.version > version
    elif action not in SUGGESTION_MOVES:  # a suggestion's state follows its assignments; an assignment's stays
        assert fresh.state == state


def test_it_covers_every_move_of_the_table():
    assert set(MOVES) == set(TRANSITIONS)
    for action in TRANSITIONS:  # each move has at least one state it is tried from and allowed in
        assert any(state in TRANSITIONS[action].sources for state, _ in states_to_try(action)), action


# The state each move is tried from when it is the actor that matters.
ROLE_STATES = {
    "update": (S.REGISTERED, None), "assign": (S.REGISTERED, None), "withdraw": (S.REGISTERED, None),
    "record_feedback": (S.REPLIED, None), "order_rehandling": (S.REPLIED, None),
    "accept": (A.PENDING, AssignmentRole.LEAD), "request_return": (A.PENDING, AssignmentRole.LEAD),
    "approve_return": (A.RETURN_REQUESTED, AssignmentRole.LEAD),
    "refuse_return": (A.RETURN_REQUESTED, AssignmentRole.LEAD),
    "add_progress": (A.HANDLING, AssignmentRole.LEAD), "add_contact": (A.HANDLING, AssignmentRole.LEAD),
    "send_opinion": (A.HANDLING, AssignmentRole.CO), "draft_reply": (A.HANDLING, AssignmentRole.LEAD),
    "sign_reply": (A.HANDLING, AssignmentRole.LEAD), "send_back_reply": (A.HANDLING, AssignmentRole.LEAD),
    "request_extension": (A.HANDLING, AssignmentRole.LEAD), "decide_extension": (A.HANDLING, AssignmentRole.LEAD),
    "change_outcome": (A.REPLIED, AssignmentRole.LEAD),
    "reopen_after_recheck": (S.REPLIED, None), "reassign_for_lookback": (S.REPLIED, None),
    "record_lookback_outcome": (S.REPLIED, None), "note_supervision": (S.REGISTERED, None),
}
PERSONAS = ["office", "handler", "leader", "handler2", "liaison"]
# Who may, from DOMAIN.md ("Who does what"): the office runs the process and may also record a rating
# or a follow-up's outcome; the liaison office only rates; a department's handler works its own
# assignments and its leader also signs, asks for extensions and records outcome changes. The
# handler of another department (handler2) may do nothing with the first department's items.
HANDLER_MOVES = {"accept", "request_return", "add_progress", "add_contact", "send_opinion", "draft_reply"}
LEADER_MOVES = HANDLER_MOVES | {"sign_reply", "send_back_reply", "request_extension", "change_outcome"}
MAY = {
    "office": {"update", "assign", "withdraw", "record_feedback", "order_rehandling", "approve_return",
               "refuse_return", "decide_extension", "change_outcome", "reopen_after_recheck",
               "reassign_for_lookback", "record_lookback_outcome", "note_supervision"},
    "liaison": {"record_feedback"},
    "handler": HANDLER_MOVES,
    "leader": LEADER_MOVES,
    "handler2": set(),
}
ROLE_CASES = [(action, persona) for action in TRANSITIONS for persona in PERSONAS]


@pytest.mark.parametrize(("action", "persona"), ROLE_CASES, ids=[f"{a}-{p}" for a, p in ROLE_CASES])
def test_it_lets_only_the_right_people_make_a_move(people, action, persona):
    state, role = ROLE_STATES[action]
    obj = build(people, action, state, role)
    actor = getattr(people, persona)
    assert workflow.allowed(actor, action, obj) == (action in MAY[persona])
    if action in MAY[persona]:
        MOVES[action](people, obj, actor)
        assert Event.objects.filter(suggestion=suggestion_of(obj)).latest("pk").actor == actor
        if TRANSITIONS[action].target:
            assert type(obj).objects.get(pk=obj.pk).state == TRANSITIONS[action].target
    else:
        expect_refused(people, action, obj, actor, PermissionDenied)


def test_it_lets_the_leader_but_not_the_handler_sign(people):
    a = assignment_in(people, A.HANDLING)
    draft = workflow.draft_reply(a, actor=people.handler, outcome="solved", body="答复正文", drafted_on=WITHIN_WINDOW)
    with pytest.raises(PermissionDenied):
        workflow.sign_reply(draft, actor=people.handler, reply_date=WITHIN_WINDOW, document_number="静建函〔2025〕1号")
    with pytest.raises(PermissionDenied):
        workflow.sign_reply(draft, actor=people.leader2, reply_date=WITHIN_WINDOW, document_number="静建函〔2025〕1号")
    workflow.sign_reply(draft, actor=people.leader, reply_date=WITHIN_WINDOW, document_number="静建函〔2025〕1号")
    a.refresh_from_db()
    assert a.state == A.REPLIED and a.replies.get().signed_by == people.leader


# --- a move kept to one role (lead or co), tried on an assignment of the other role ---

OTHER_ROLE = {AssignmentRole.LEAD: (AssignmentRole.CO, CO_STATES),
              AssignmentRole.CO: (AssignmentRole.LEAD, LEAD_STATES)}
ONE_ROLE_MOVES = [action for action, move in TRANSITIONS.items() if move.role]
# These act on a draft reply or an extension request, which only an assignment of the move's own role
# can have: the other role's assignment has none to hand over, so the rule is checked on the assignment.
ON_ITS_RECORD = {"sign_reply", "send_back_reply", "decide_extension"}
WHO_MAY = {workflow.OFFICE: "office", workflow.HANDLER: "handler", workflow.LEADER: "leader"}
OTHER_ROLE_CASES = [(action, state, OTHER_ROLE[TRANSITIONS[action].role][0])
                    for action in ONE_ROLE_MOVES for state in OTHER_ROLE[TRANSITIONS[action].role][1]]


def test_it_tries_every_move_kept_to_one_role_on_the_other_role():
    assert ONE_ROLE_MOVES
    assert ON_ITS_RECORD <= set(ONE_ROLE_MOVES)
    # The role rule itself, not only the state, is what refuses some of them.
    assert any(state in TRANSITIONS[action].sources for action, state, _ in OTHER_ROLE_CASES)


@pytest.mark.parametrize(("action", "state", "role"), OTHER_ROLE_CASES,
                         ids=[f"{a}-{s}-{r}" for a, s, r in OTHER_ROLE_CASES])
def test_it_refuses_a_move_of_one_role_on_an_assignment_of_the_other(people, action, state, role):
    a = assignment_in(people, state, role)
    move = TRANSITIONS[action]
    persona = WHO_MAY[move.who]
    assert action in MAY[persona]  # someone who may make the move on an assignment of its own role
    actor = getattr(people, persona)
    # From a state the move starts from, the message names the role the move is for.
    named = re.escape(str(AssignmentRole(move.role).label)) if state in move.sources else None
    assert not workflow.allowed(actor, action, a)
    if action in ON_ITS_RECORD:
        before = snapshot(a)
        with pytest.raises(WorkflowError, match=named):
            workflow._check(actor, action, a)
        assert snapshot(a) == before
    else:
        expect_refused(people, action, a, actor, WorkflowError, match=named)
