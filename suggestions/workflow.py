"""Every change of state of a suggestion, as verb-named functions over one transition table.

Each function locks the rows it changes, checks the move against `TRANSITIONS` and the actor's
rights, writes an `Event`, saves with `update_fields` and defers side effects (notifications)
until the transaction commits. Views, the admin, imports and tasks call these functions and never
set a state field themselves. `actor=None` means the system itself (imports, demo data, tasks):
rights are not checked then, the rules of the move still are.
"""
import contextlib
import contextvars
import datetime as dt
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from departments import scoping

from . import deadlines
from .choices import (
    OUTCOME_RANK,
    OUTCOMES_NEEDING_DATE,
    AssignmentRole,
    AssignmentState,
    ExtensionState,
    Rating,
    ReplyState,
    SuggestionState,
)
from .models import (
    Assignment,
    Contact,
    CoOpinion,
    Event,
    ExtensionRequest,
    Feedback,
    OutcomeRecord,
    ProgressNote,
    Reply,
    Suggestion,
)

A = AssignmentState
S = SuggestionState
OFFICE, HANDLER, LEADER, RATER = "office", "handler", "leader", "rater"


class WorkflowError(Exception):
    """A move the rules forbid; the message is for the user and nothing was changed."""


@dataclass(frozen=True)
class Move:
    """One allowed move: from which states, to which state (None: unchanged), by whom."""

    sources: frozenset
    target: str | None
    who: str
    role: str | None = None  # for assignment moves: only lead or only co
    label: str = ""


def _m(sources, target, who, role=None, label=""):
    return Move(frozenset(sources), target, who, role, label)


WORKING = {A.HANDLING, A.REHANDLING}
# Suggestion moves are keyed by the suggestion's state, assignment moves by the assignment's.
TRANSITIONS = {
    "update": _m(set(S) - {S.WITHDRAWN}, None, OFFICE, label=gettext_lazy("Edit")),
    "assign": _m({S.REGISTERED, S.ASSIGNED, S.HANDLING}, None, OFFICE, label=gettext_lazy("Assign")),
    "withdraw": _m(set(S) - {S.WITHDRAWN}, S.WITHDRAWN, OFFICE, label=gettext_lazy("Withdraw")),
    "record_feedback": _m({S.REPLIED}, None, RATER, label=gettext_lazy("Record feedback")),
    "order_rehandling": _m({S.REPLIED}, S.REHANDLING, OFFICE, label=gettext_lazy("Order re-handling")),
    "accept": _m({A.PENDING}, A.HANDLING, HANDLER, label=gettext_lazy("Accept")),
    "request_return": _m({A.PENDING, A.HANDLING}, A.RETURN_REQUESTED, HANDLER,
                         label=gettext_lazy("Ask to return")),
    "approve_return": _m({A.RETURN_REQUESTED}, A.RETURNED, OFFICE, label=gettext_lazy("Approve return")),
    "refuse_return": _m({A.RETURN_REQUESTED}, A.HANDLING, OFFICE, label=gettext_lazy("Refuse return")),
    "add_progress": _m(WORKING | {A.OPINION_SENT, A.REPLIED}, None, HANDLER, label=gettext_lazy("Record progress")),
    "add_contact": _m(WORKING | {A.REPLIED}, None, HANDLER, label=gettext_lazy("Record contact")),
    "send_opinion": _m({A.HANDLING}, A.OPINION_SENT, HANDLER, AssignmentRole.CO,
                       label=gettext_lazy("Send co-handling opinion")),
    "draft_reply": _m(WORKING, None, HANDLER, AssignmentRole.LEAD, label=gettext_lazy("Draft reply")),
    "sign_reply": _m(WORKING, A.REPLIED, LEADER, AssignmentRole.LEAD, label=gettext_lazy("Sign and send")),
    "send_back_reply": _m(WORKING, None, LEADER, AssignmentRole.LEAD, label=gettext_lazy("Send back")),
    "request_extension": _m(WORKING | {A.PENDING}, None, LEADER, AssignmentRole.LEAD,
                            label=gettext_lazy("Request extension")),
    "decide_extension": _m(WORKING | {A.PENDING}, None, OFFICE, AssignmentRole.LEAD,
                           label=gettext_lazy("Decide extension")),
    "change_outcome": _m({A.REPLIED}, None, LEADER, AssignmentRole.LEAD, label=gettext_lazy("Change outcome")),
}
SUGGESTION_MOVES = {"update", "assign", "withdraw", "record_feedback", "order_rehandling"}


def allowed(user, action, obj):
    """True when `user` (None: the system) may do `action` on `obj` in its current state."""
    try:
        _check(user, action, obj)
    except (WorkflowError, PermissionDenied):
        return False
    return True


def _check(user, action, obj):
    move = TRANSITIONS[action]
    is_suggestion = action in SUGGESTION_MOVES
    suggestion = obj if is_suggestion else obj.suggestion
    if not is_suggestion and suggestion.state == S.WITHDRAWN:
        raise WorkflowError(_("This suggestion has been withdrawn."))
    if obj.state not in move.sources:
        raise WorkflowError(_("“%(action)s” is not possible while the state is “%(state)s”.") % {
            "action": move.label, "state": obj.get_state_display()})
    if move.role and obj.role != move.role:
        raise WorkflowError(_("“%(action)s” is for the %(role)s only.") % {
            "action": move.label, "role": AssignmentRole(move.role).label})
    if user is None:
        return move
    if move.who == OFFICE:
        ok = scoping.is_coordinator(user)
    elif move.who == HANDLER:
        ok = scoping.can_handle(user, obj)
    elif move.who == LEADER:
        ok = scoping.can_sign(user, obj) or (action == "change_outcome" and scoping.is_coordinator(user))
    else:
        ok = scoping.can_record_feedback(user, suggestion)
    if not ok:
        raise PermissionDenied(_("You may not do “%(action)s” here.") % {"action": move.label})
    return move


class StaleVersion(WorkflowError):
    """The page the user acted from is older than the row: someone else changed it meanwhile."""


def _check_version(obj, expected):
    """Refuse a step taken from a stale page (optimistic locking): never silently act on a changed row."""
    if expected is not None and obj.version != expected:
        raise StaleVersion(_("Someone else changed this %(what)s while you were working on it. "
                             "Reload the page to see their change.") % {"what": obj._meta.verbose_name})


def _moment(day):
    """The timeline time of something that happened on `day` (today: now)."""
    now = timezone.now()
    if day is None or day >= timezone.localdate(now):
        return now
    return timezone.make_aware(dt.datetime.combine(day, dt.time(9, 0)))


def _event(suggestion, kind, actor, assignment=None, detail="", day=None, **data):
    return Event.objects.create(suggestion=suggestion, assignment=assignment, kind=kind, actor=actor,
                                at=_moment(day), detail=detail, data=data)


def _lock_suggestion(suggestion):
    return Suggestion.objects.select_for_update().get(pk=suggestion.pk)


def _lock_assignment(assignment):
    locked = Assignment.objects.select_for_update().select_related("suggestion", "department").get(pk=assignment.pk)
    return locked


def _today(day):
    return day or timezone.localdate()


def _bump(obj, *fields):
    obj.version += 1
    obj.save(update_fields=[*fields, "version"])


def _notify(kind, **ids):
    """Tell the people concerned once the change is committed (never before, never if rolled back)."""
    from . import notifications

    if _quiet.get():
        return
    batch = _batch.get()
    if batch is not None:
        for key, values in ids.items():
            batch.setdefault(kind, {}).setdefault(key, []).extend(values)
        return
    transaction.on_commit(lambda: notifications.enqueue(kind, **ids))


# --- the suggestion ---------------------------------------------------------------------------

@transaction.atomic
def register(*, actor, year, number, title, lead_deputy, co_deputies=(), registered_on=None, **fields):
    """Enter a new suggestion (登记). `fields` are the optional model fields (content, source …)."""
    if actor is not None and not scoping.is_coordinator(actor):
        raise PermissionDenied(_("Only the district office registers suggestions."))
    if Suggestion.objects.filter(year=year, number=number).exists():
        raise WorkflowError(_("Number %(number)s already exists in %(year)s.") % {"number": number, "year": year})
    suggestion = Suggestion.objects.create(year=year, number=number, title=title, lead_deputy=lead_deputy,
                                           **fields)
    if co_deputies:
        suggestion.co_deputies.set(co_deputies)
    _event(suggestion, Event.Kind.REGISTERED, actor, day=registered_on, number=number, year=year)
    return suggestion


EDITABLE_FIELDS = ("title", "content", "source", "lead_deputy", "category", "street", "is_key",
                   "supervising_leader", "is_public", "not_public_reason")


@transaction.atomic
def update(suggestion, *, actor, expected_version=None, co_deputies=None, **changes):
    """Change a suggestion's details. A stale `expected_version` is refused, never overwritten."""
    s = _lock_suggestion(suggestion)
    _check(actor, "update", s)
    if expected_version is not None and s.version != expected_version:
        raise WorkflowError(_("Someone else changed this suggestion while you were editing. "
                              "Reload the page to see their change."))
    changed = {}
    for name, value in changes.items():
        if name not in EDITABLE_FIELDS:
            raise ValueError(f"{name} is not an editable field")
        old = getattr(s, name)
        if old != value:
            changed[name] = [str(old or ""), str(value or "")]
            setattr(s, name, value)
    if co_deputies is not None:
        before = sorted(d.name for d in s.co_deputies.all())
        after = sorted(d.name for d in co_deputies)
        if before != after:
            s.co_deputies.set(co_deputies)
            changed["co_deputies"] = ["、".join(before), "、".join(after)]
    if changed:
        _bump(s, *[n for n in changed if n != "co_deputies"])
        _event(s, Event.Kind.UPDATED, actor, changes=changed)
    return s


@transaction.atomic
def assign(suggestion, *, actor, lead=(), co=(), assigned_on=None):
    """Give the suggestion to lead departments (主办, several = 分办) and co-handlers (会办)."""
    s = _lock_suggestion(suggestion)
    _check(actor, "assign", s)
    lead, co = list(lead), list(co)
    if not lead and not s.assignments.filter(role=AssignmentRole.LEAD).exclude(state=A.RETURNED).exists():
        raise WorkflowError(_("Choose at least one lead department."))
    overlap = {d.pk for d in lead} & {d.pk for d in co}
    if overlap:
        raise WorkflowError(_("A department cannot be both lead and co-handler."))
    taken = set(s.assignments.exclude(state=A.RETURNED).values_list("department_id", flat=True))
    already = [d.name for d in lead + co if d.pk in taken]
    if already:
        raise WorkflowError(_("Already assigned to: %(names)s.") % {"names": "、".join(already)})
    on = _today(assigned_on)
    reply_due = deadlines.reply_deadline(on)
    opinion_due = deadlines.co_opinion_deadline(on)
    back = deadlines.return_deadline(on)
    created = []
    for role, departments, due in ((AssignmentRole.LEAD, lead, reply_due), (AssignmentRole.CO, co, opinion_due)):
        months = settings.REPLY_MONTHS if role == AssignmentRole.LEAD else settings.CO_OPINION_MONTHS
        for department in departments:
            created.append(Assignment.objects.create(
                suggestion=s, department=department, role=role, assigned_on=on, due_date=due.date,
                due_basis=due.basis, due_base=on, due_months=months, return_deadline=back.date))
    for a in created:
        _event(s, Event.Kind.ASSIGNED, actor, assignment=a, day=on, department=a.department.name, role=a.role,
               due_date=a.due_date.isoformat())
    if s.assigned_on is None:
        s.assigned_on = on
        s.save(update_fields=["assigned_on"])
    _sync(s)
    _notify("assigned", assignment_ids=[a.pk for a in created])
    return created


@transaction.atomic
def withdraw(suggestion, *, actor, reason, withdrawn_on=None):
    """Mark a suggestion withdrawn: kept, countable, and out of every open list."""
    s = _lock_suggestion(suggestion)
    _check(actor, "withdraw", s)
    if not reason.strip():
        raise WorkflowError(_("Give the reason for withdrawing."))
    s.state, s.withdrawn_on = S.WITHDRAWN, _today(withdrawn_on)
    _bump(s, "state", "withdrawn_on")
    _event(s, Event.Kind.WITHDRAWN, actor, detail=reason, day=s.withdrawn_on)
    return s


@transaction.atomic
def record_feedback(suggestion, *, actor, result, attitude, comments="", recorded_on=None):
    """The deputy's ratings of the latest reply; 不满意 needs comments."""
    s = _lock_suggestion(suggestion)
    _check(actor, "record_feedback", s)
    if Rating.DISSATISFIED in (result, attitude) and not comments.strip():
        raise WorkflowError(_("A “dissatisfied” rating must come with the deputy's comments."))
    on = _today(recorded_on)
    reply = (Reply.objects.filter(assignment__suggestion=s, state=ReplyState.SENT)
             .order_by("-reply_date", "-pk").first())
    if reply and reply.reply_date and on < reply.reply_date:
        raise WorkflowError(_("Feedback cannot be dated before the reply."))
    fb = Feedback.objects.create(suggestion=s, reply=reply, result=result, attitude=attitude, comments=comments,
                                 recorded_on=on, recorded_by=actor)
    s.awaiting_feedback = False
    _bump(s, "awaiting_feedback")
    _event(s, Event.Kind.FEEDBACK, actor, detail=comments, day=on, result=result, attitude=attitude)
    return fb


@transaction.atomic
def order_rehandling(suggestion, *, actor, reason, ordered_on=None):
    """After dissatisfaction: the lead departments reply again within the re-handling period."""
    s = _lock_suggestion(suggestion)
    _check(actor, "order_rehandling", s)
    if not reason.strip():
        raise WorkflowError(_("Give the reason for re-handling."))
    on = _today(ordered_on)
    due = deadlines.rehandling_deadline(on)
    leads = _reopen_leads(s, on, due)
    _event(s, Event.Kind.REHANDLING, actor, detail=reason, day=on, due_date=due.date.isoformat())
    _sync(s)
    _notify("rehandling", assignment_ids=[a.pk for a in leads])
    return s


def _reopen_leads(s, on, due):
    """The replied lead assignments go back to work with the re-handling deadline."""
    leads = list(Assignment.objects.select_for_update().filter(suggestion=s, role=AssignmentRole.LEAD,
                                                                 state=A.REPLIED))
    for a in leads:
        a.state, a.due_date, a.due_basis, a.due_base, a.due_months = (
            A.REHANDLING, due.date, due.basis, on, settings.REHANDLING_MONTHS)
        _bump(a, "state", "due_date", "due_basis", "due_base", "due_months")
    return leads


# --- an assignment ----------------------------------------------------------------------------

@transaction.atomic
def accept(assignment, *, actor, accepted_on=None, expected_version=None):
    a = _lock_assignment(assignment)
    move = _check(actor, "accept", a)
    _check_version(a, expected_version)
    a.state, a.accepted_at = move.target, _moment(accepted_on)
    _bump(a, "state", "accepted_at")
    _event(a.suggestion, Event.Kind.ACCEPTED, actor, assignment=a, day=accepted_on, department=a.department.name)
    _sync(a.suggestion)
    return a


@transaction.atomic
def request_return(assignment, *, actor, reason, requested_on=None, expected_version=None):
    """Ask the office to take back a wrong assignment, within the return window."""
    a = _lock_assignment(assignment)
    move = _check(actor, "request_return", a)
    _check_version(a, expected_version)
    if not reason.strip():
        raise WorkflowError(_("Give the reasons for the return."))
    on = _today(requested_on)
    if a.return_deadline and on > a.return_deadline:
        raise WorkflowError(_("The return window closed on %(date)s.") % {"date": a.return_deadline.isoformat()})
    a.state, a.return_reason = move.target, reason
    _bump(a, "state", "return_reason")
    _event(a.suggestion, Event.Kind.RETURN_REQUESTED, actor, assignment=a, detail=reason, day=on,
           department=a.department.name)
    _notify("return_requested", assignment_ids=[a.pk])
    return a


@transaction.atomic
def approve_return(assignment, *, actor, reassign_to=(), decided_on=None, expected_version=None):
    """Take back a wrong assignment and, optionally, give the part to other departments."""
    a = _lock_assignment(assignment)
    move = _check(actor, "approve_return", a)
    _check_version(a, expected_version)
    a.state, a.returned_on = move.target, _today(decided_on)
    _bump(a, "state", "returned_on")
    _event(a.suggestion, Event.Kind.RETURN_APPROVED, actor, assignment=a, day=a.returned_on,
           department=a.department.name)
    created = []
    if reassign_to:
        kwargs = {"lead": reassign_to} if a.is_lead else {"co": reassign_to}
        created = assign(a.suggestion, actor=actor, assigned_on=decided_on, **kwargs)
    else:
        _sync(a.suggestion)
    return created


@transaction.atomic
def refuse_return(assignment, *, actor, reason, decided_on=None, expected_version=None):
    a = _lock_assignment(assignment)
    move = _check(actor, "refuse_return", a)
    _check_version(a, expected_version)
    if not reason.strip():
        raise WorkflowError(_("Tell the department why the return is refused."))
    a.state = move.target
    if a.accepted_at is None:
        a.accepted_at = _moment(decided_on)
    _bump(a, "state", "accepted_at")
    _event(a.suggestion, Event.Kind.RETURN_REFUSED, actor, assignment=a, detail=reason, day=decided_on,
           department=a.department.name)
    _sync(a.suggestion)
    return a


@transaction.atomic
def add_progress(assignment, *, actor, text, noted_on=None, expected_version=None):
    a = _lock_assignment(assignment)
    _check(actor, "add_progress", a)
    _check_version(a, expected_version)
    if not text.strip():
        raise WorkflowError(_("Describe the progress."))
    note = ProgressNote.objects.create(assignment=a, noted_on=_today(noted_on), text=text, author=actor)
    _event(a.suggestion, Event.Kind.PROGRESS, actor, assignment=a, detail=text, day=noted_on,
           department=a.department.name)
    return note


@transaction.atomic
def add_contact(assignment, *, actor, method, contacted_on, participants, summary, expected_version=None):
    a = _lock_assignment(assignment)
    _check(actor, "add_contact", a)
    _check_version(a, expected_version)
    if contacted_on > timezone.localdate():
        raise WorkflowError(_("A contact cannot be dated in the future."))
    contact = Contact.objects.create(assignment=a, method=method, contacted_on=contacted_on,
                                     participants=participants, summary=summary, author=actor)
    _event(a.suggestion, Event.Kind.CONTACT, actor, assignment=a, detail=summary, day=contacted_on,
           department=a.department.name, method=method, participants=participants)
    return contact


@transaction.atomic
def send_opinion(assignment, *, actor, text, sent_on=None, expected_version=None):
    """A co-handler's written opinion to the lead department."""
    a = _lock_assignment(assignment)
    move = _check(actor, "send_opinion", a)
    _check_version(a, expected_version)
    if not text.strip():
        raise WorkflowError(_("Write the opinion."))
    opinion = CoOpinion.objects.create(assignment=a, text=text, sent_on=_today(sent_on), author=actor)
    a.state = move.target
    _bump(a, "state")
    _event(a.suggestion, Event.Kind.OPINION, actor, assignment=a, detail=text, day=sent_on,
           department=a.department.name)
    _notify("opinion_sent", assignment_ids=[a.pk])
    return opinion


def reply_blockers(assignment, on=None):
    """Why the lead department may not reply yet: missing opinions still due, no contact."""
    on = _today(on)
    problems = []
    waiting = [c for c in Assignment.objects.filter(suggestion_id=assignment.suggestion_id, role=AssignmentRole.CO)
               .select_related("department")
               if c.state in (A.PENDING, A.HANDLING, A.RETURN_REQUESTED) and on <= c.due_date]
    if waiting:
        problems.append(_("Waiting for the opinion of %(names)s (due %(date)s).") % {
            "names": "、".join(c.department.name for c in waiting),
            "date": max(c.due_date for c in waiting).isoformat()})
    if settings.REQUIRE_CONTACT_BEFORE_REPLY and not assignment.contacts.exists():
        problems.append(_("Record a contact with the deputy before replying."))
    return problems


@transaction.atomic
def draft_reply(assignment, *, actor, outcome, body, document_number="", completion_date=None, attachment=None,
                strict=True, drafted_on=None, expected_version=None):
    """The handler's draft of the reply letter, awaiting the leader's approval.

    `strict=False` skips the opinion and contact rules, for records of earlier years loaded as history.
    """
    a = _lock_assignment(assignment)
    _check(actor, "draft_reply", a)
    _check_version(a, expected_version)
    if a.replies.filter(state=ReplyState.PENDING).exists():
        raise WorkflowError(_("A draft is already waiting for the leader's approval."))
    if outcome in OUTCOMES_NEEDING_DATE and completion_date is None and strict:
        raise WorkflowError(_("“Being solved” and “planned” replies must state a completion date."))
    if strict:
        problems = reply_blockers(a, drafted_on)
        if problems:
            raise WorkflowError(" ".join(problems))
    round_ = a.replies.filter(state=ReplyState.SENT).count() + 1
    reply = Reply.objects.create(assignment=a, round=round_, outcome=outcome, body=body,
                                 document_number=document_number, completion_date=completion_date,
                                 drafted_by=actor, **({"attachment": attachment} if attachment else {}))
    _event(a.suggestion, Event.Kind.REPLY_DRAFTED, actor, assignment=a, day=drafted_on, outcome=outcome,
           round=round_)
    _notify("reply_drafted", reply_ids=[reply.pk])
    return reply


@transaction.atomic
def sign_reply(reply, *, actor, reply_date=None, document_number=None, strict=True, expected_version=None):
    """The leader approves, signs and sends the reply: the assignment is replied."""
    r = Reply.objects.select_for_update().get(pk=reply.pk)
    a = _lock_assignment(r.assignment)
    move = _check(actor, "sign_reply", a)
    _check_version(a, expected_version)
    if r.state != ReplyState.PENDING:
        raise WorkflowError(_("Only a draft awaiting approval can be signed."))
    on = _today(reply_date)
    if on < a.assigned_on:
        raise WorkflowError(_("A reply cannot be dated before the assignment."))
    if strict:
        problems = reply_blockers(a, on)
        if problems:
            raise WorkflowError(" ".join(problems))
    if document_number:
        r.document_number = document_number
    if not r.document_number and strict:
        raise WorkflowError(_("Give the reply letter's document number."))
    r.state, r.signed_by, r.reply_date, r.due_date = ReplyState.SENT, actor, on, a.due_date
    r.on_time = on <= a.due_date
    r.save(update_fields=["state", "signed_by", "reply_date", "due_date", "on_time", "document_number"])
    a.state, a.outcome = move.target, r.outcome
    if a.first_replied_on is None:
        a.first_replied_on = on
    _bump(a, "state", "outcome", "first_replied_on")
    _event(a.suggestion, Event.Kind.REPLY_SIGNED, actor, assignment=a, day=on, outcome=r.outcome,
           document_number=r.document_number, on_time=r.on_time, round=r.round)
    _sync(a.suggestion, on=on, reply=r, actor=actor)
    _notify("reply_signed", reply_ids=[r.pk])
    return r


@transaction.atomic
def send_back_reply(reply, *, actor, reason, expected_version=None):
    """The leader sends a draft back to the handler for revision."""
    r = Reply.objects.select_for_update().get(pk=reply.pk)
    a = _lock_assignment(r.assignment)
    _check(actor, "send_back_reply", a)
    _check_version(a, expected_version)
    if r.state != ReplyState.PENDING:
        raise WorkflowError(_("Only a draft awaiting approval can be sent back."))
    if not reason.strip():
        raise WorkflowError(_("Say what should be revised."))
    r.state, r.sent_back_reason = ReplyState.SENT_BACK, reason
    r.save(update_fields=["state", "sent_back_reason"])
    _event(a.suggestion, Event.Kind.REPLY_SENT_BACK, actor, assignment=a, detail=reason)
    return r


@transaction.atomic
def change_outcome(assignment, *, actor, outcome, effective_on, note, completion_date=None, strict=True,
                   expected_version=None):
    """Follow-up: the work is done (or re-planned); the earlier outcome stays in the history.

    `strict=False` (records loaded as history) skips the completion-date rule.
    """
    a = _lock_assignment(assignment)
    _check(actor, "change_outcome", a)
    _check_version(a, expected_version)
    if outcome == a.outcome:
        raise WorkflowError(_("The outcome is already “%(outcome)s”.") % {"outcome": a.get_outcome_display()})
    if outcome in OUTCOMES_NEEDING_DATE and completion_date is None and strict:
        raise WorkflowError(_("“Being solved” and “planned” outcomes must state a completion date."))
    if a.first_replied_on and effective_on < a.first_replied_on:
        raise WorkflowError(_("The change cannot be dated before the first reply."))
    if effective_on > timezone.localdate():
        raise WorkflowError(_("The change cannot be dated in the future."))
    before = a.outcome
    a.outcome = outcome
    _bump(a, "outcome")
    _event(a.suggestion, Event.Kind.OUTCOME_CHANGED, actor, assignment=a, detail=note, day=effective_on,
           before=before, after=outcome, completion_date=completion_date.isoformat() if completion_date else None)
    _sync(a.suggestion, on=effective_on, actor=actor, note=note)
    return a


@transaction.atomic
def request_extension(assignment, *, actor, requested_due, reason, expected_version=None):
    a = _lock_assignment(assignment)
    _check(actor, "request_extension", a)
    _check_version(a, expected_version)
    if a.extensions.filter(state=ExtensionState.PENDING).exists():
        raise WorkflowError(_("An extension request is already waiting for a decision."))
    if not reason.strip():
        raise WorkflowError(_("Give the reason for the extension."))
    if requested_due <= a.due_date:
        raise WorkflowError(_("The new deadline must be later than the current one (%(date)s).") % {
            "date": a.due_date.isoformat()})
    cap = deadlines.extension_cap(a.assigned_on)
    if requested_due > cap.date:
        raise WorkflowError(_("An extension may not go beyond %(date)s (%(basis)s).") % {
            "date": cap.date.isoformat(), "basis": cap.basis})
    ext = ExtensionRequest.objects.create(assignment=a, requested_due=requested_due, reason=reason,
                                          requested_by=actor)
    _event(a.suggestion, Event.Kind.EXTENSION_REQUESTED, actor, assignment=a, detail=reason,
           requested_due=requested_due.isoformat())
    _notify("extension_requested", extension_ids=[ext.pk])
    return ext


@transaction.atomic
def decide_extension(extension, *, actor, approve, deputy_notified_on=None, note="", expected_version=None):
    """The coordinator approves (the new deadline is in force; the deputy is told) or refuses."""
    ext = ExtensionRequest.objects.select_for_update().get(pk=extension.pk)
    a = _lock_assignment(ext.assignment)
    _check(actor, "decide_extension", a)
    _check_version(a, expected_version)
    if ext.state != ExtensionState.PENDING:
        raise WorkflowError(_("This request has already been decided."))
    ext.decided_by, ext.decided_at = actor, timezone.now()
    if approve:
        due = deadlines.fixed_date(ext.requested_due, _("extension approved to"))
        ext.state, ext.granted_due = ExtensionState.APPROVED, due.date
        ext.deputy_notified_on = deputy_notified_on or timezone.localdate()
        a.due_date, a.due_basis, a.due_base, a.due_months = due.date, due.basis, ext.requested_due, 0
        _bump(a, "due_date", "due_basis", "due_base", "due_months")
        _event(a.suggestion, Event.Kind.EXTENSION_APPROVED, actor, assignment=a, detail=note,
               due_date=due.date.isoformat(), deputy_notified_on=ext.deputy_notified_on.isoformat())
    else:
        ext.state = ExtensionState.REFUSED
        _event(a.suggestion, Event.Kind.EXTENSION_REFUSED, actor, assignment=a, detail=note)
    ext.save(update_fields=["state", "granted_due", "deputy_notified_on", "decided_by", "decided_at"])
    return ext


@transaction.atomic
def recompute_deadline(assignment, *, actor=None, today=None):
    """Recompute an open assignment's deadlines after a calendar change: its reply (or opinion)
    deadline, and its return window while that is still open; record each one that moves."""
    a = _lock_assignment(assignment)
    _recompute_due_date(a, actor)
    _recompute_return_window(a, actor, _today(today))
    return a


def _recompute_due_date(a, actor):
    if a.state not in (A.PENDING, A.HANDLING, A.REHANDLING, A.RETURN_REQUESTED) or a.due_base is None:
        return
    if a.due_months:
        label = _("re-handling ordered") if a.state == A.REHANDLING else (
            _("assigned") if a.is_lead else _("received"))
        due = deadlines.months_after(a.due_base, a.due_months, label)
    else:
        due = deadlines.fixed_date(a.due_base, _("extension approved to"))
    if due.date != a.due_date:
        before = a.due_date
        a.due_date, a.due_basis = due.date, due.basis
        _bump(a, "due_date", "due_basis")
        _event(a.suggestion, Event.Kind.DEADLINE_CHANGED, actor, assignment=a, detail=due.basis,
               before=before.isoformat(), after=due.date.isoformat())
    elif a.due_months and due.basis != a.due_basis:
        # The same day, explained anew (e.g. its year's holidays are now entered): nothing moved,
        # so no event and no new version for the forms open on it.
        a.due_basis = due.basis
        a.save(update_fields=["due_basis"])


def return_window_open(a, today):
    """Whether the department may still ask to return the assignment on `today`."""
    return (a.state in TRANSITIONS["request_return"].sources and a.return_deadline is not None
            and a.return_deadline >= today)


def _recompute_return_window(a, actor, today):
    # A window already closed stays closed: a holiday entered later does not reopen it.
    if not return_window_open(a, today):
        return
    back = deadlines.return_deadline(a.assigned_on)
    if back.date == a.return_deadline:
        return
    before = a.return_deadline
    a.return_deadline = back.date
    _bump(a, "return_deadline")
    with translation.override(settings.LANGUAGE_CODE):
        detail = _("Return window: %(basis)s") % {"basis": back.basis}
    _event(a.suggestion, Event.Kind.DEADLINE_CHANGED, actor, assignment=a, detail=detail, deadline="return",
           before=before.isoformat(), after=back.date.isoformat())
    # The department may be counting on the old day; a make-up working day can even close the window.
    _notify("return_window_closed" if back.date < today else "return_window_moved", assignment_ids=[a.pk])


# --- the suggestion's state follows from its assignments ---------------------------------------

def _sync(suggestion, on=None, reply=None, actor=None, note=""):
    """Derive the suggestion's state, outcome and reply figures from its lead assignments."""
    s = suggestion
    if s.state == S.WITHDRAWN:
        return
    active = list(Assignment.objects.filter(suggestion=s).exclude(state=A.RETURNED)
                  .values_list("role", "state", "outcome", "first_replied_on"))
    leads = [row for row in active if row[0] == AssignmentRole.LEAD]
    states = {row[1] for row in leads}
    if not leads:
        state = S.REGISTERED
    elif A.REHANDLING in states:
        state = S.REHANDLING
    elif states == {A.REPLIED}:
        state = S.REPLIED
    elif states & {A.HANDLING, A.REPLIED} or any(row[1] != A.PENDING for row in active):
        state = S.HANDLING
    else:
        state = S.ASSIGNED
    fields = []
    if state != s.state:
        s.state = state
        fields.append("state")
    outcomes = [row[2] for row in leads]
    if leads and all(outcomes):
        outcome = min(outcomes, key=OUTCOME_RANK.__getitem__)
        if outcome != s.outcome:
            s.outcome = outcome
            fields.append("outcome")
            OutcomeRecord.objects.create(suggestion=s, outcome=outcome, effective_on=_today(on), reply=reply,
                                         note=note, recorded_by=actor)
    if state == S.REPLIED and s.first_replied_on is None and all(row[3] for row in leads):
        s.first_replied_on = max(row[3] for row in leads)
        s.replied_on_time = not Reply.objects.filter(assignment__suggestion=s, round=1, state=ReplyState.SENT,
                                                     on_time=False).exists()
        fields += ["first_replied_on", "replied_on_time"]
    if reply is not None and state == S.REPLIED:
        s.awaiting_feedback = True
        fields.append("awaiting_feedback")
    if fields:
        _bump(s, *fields)


# --- imports ----------------------------------------------------------------------------------
# Helpers for suggestions.spreadsheets: records of earlier years loaded through the verbs above.

_quiet = contextvars.ContextVar("workflow_quiet", default=False)


@contextlib.contextmanager
def quietly():
    """Send no notifications for the steps inside: history being loaded is news to nobody."""
    token = _quiet.set(True)
    try:
        yield
    finally:
        _quiet.reset(token)


_batch = contextvars.ContextVar("workflow_notification_batch", default=None)


@contextlib.contextmanager
def notifications_batched():
    """Collect the notifications of the steps inside and write them together once the transaction
    commits: a file of thousands of assignments writes them in a few queries, not thousands."""
    from . import notifications

    batch = {}
    token = _batch.set(batch)
    try:
        yield
    finally:
        _batch.reset(token)

    def write():
        for kind, ids in batch.items():
            notifications.enqueue(kind, **ids)
    transaction.on_commit(write)


@transaction.atomic
def set_due_date(assignment, *, actor, due_date, label):
    """Put a reply deadline recorded elsewhere (an imported 办复期限) in force; an event when it moves."""
    a = _lock_assignment(assignment)
    due = deadlines.fixed_date(due_date, label)
    if due.date == a.due_date:
        return a
    before = a.due_date
    a.due_date, a.due_basis, a.due_base, a.due_months = due.date, due.basis, due_date, 0
    _bump(a, "due_date", "due_basis", "due_base", "due_months")
    _event(a.suggestion, Event.Kind.DEADLINE_CHANGED, actor, assignment=a, detail=due.basis,
           before=before.isoformat(), after=due.date.isoformat())
    return a


def record_import(suggestion, *, actor, file_name, row, created, changes=()):
    """The timeline line saying which spreadsheet row created or changed the suggestion."""
    return _event(suggestion, Event.Kind.IMPORTED, actor, detail=f"{file_name} #{row}", file=file_name, row=row,
                  created=created, changes=list(changes))


@dataclass
class NewItem:
    """One new suggestion of an imported assignment list: what `register`, `assign` and `set_due_date` take."""

    fields: dict  # the Suggestion's fields, as `register` takes them (year, number, title, lead_deputy …)
    co_deputies: list
    assigned_on: dt.date
    lead: list
    co: list
    due_date: dt.date | None  # a reply deadline recorded in the list, put in force like `set_due_date`
    row: int


@transaction.atomic
def import_new(items, *, actor, file_name, due_label):
    """Register and assign the new suggestions of an imported list in a few statements, not dozens per
    item: the same rows, timeline, audit entries, title index and notifications as `register`, `assign`,
    `set_due_date` and `record_import` one by one (tests/suggestions/test_import_bulk.py compares them).
    The caller has checked every item: new numbers, at least one lead department, no department twice."""
    from audit.receivers import record_created
    from supervision import similarity

    now = timezone.now()
    worked_out = {}

    def due(on):
        if on not in worked_out:
            worked_out[on] = (deadlines.reply_deadline(on), deadlines.co_opinion_deadline(on),
                              deadlines.return_deadline(on))
        return worked_out[on]

    suggestions = Suggestion.objects.bulk_create([
        # `assign` leaves a new suggestion assigned, its state bumped once past the registered one.
        Suggestion(**item.fields, state=S.ASSIGNED, assigned_on=item.assigned_on, version=2) for item in items])
    Link = Suggestion.co_deputies.through
    Link.objects.bulk_create([Link(suggestion=s, deputy=d) for s, item in zip(suggestions, items, strict=True)
                              for d in item.co_deputies], batch_size=2000)
    assignments, before = [], []  # before: the computed due date an imported one replaced, or None
    for s, item in zip(suggestions, items, strict=True):
        reply_due, opinion_due, back = due(item.assigned_on)
        for role, departments, d, months in ((AssignmentRole.LEAD, item.lead, reply_due, settings.REPLY_MONTHS),
                                             (AssignmentRole.CO, item.co, opinion_due, settings.CO_OPINION_MONTHS)):
            for department in departments:
                a = Assignment(suggestion=s, department=department, role=role, assigned_on=item.assigned_on,
                               due_date=d.date, due_basis=d.basis, due_base=item.assigned_on, due_months=months,
                               return_deadline=back.date)
                replaced = None
                if role == AssignmentRole.LEAD and item.due_date:
                    fixed = deadlines.fixed_date(item.due_date, due_label)
                    if fixed.date != a.due_date:
                        replaced = a.due_date
                        a.due_date, a.due_basis, a.due_base, a.due_months = fixed.date, fixed.basis, item.due_date, 0
                        a.version = 2
                assignments.append(a)
                before.append(replaced)
    Assignment.objects.bulk_create(assignments, batch_size=2000)

    events = []
    by_suggestion = {}
    for a, replaced in zip(assignments, before, strict=True):
        by_suggestion.setdefault(a.suggestion_id, []).append((a, replaced))
    for s, item in zip(suggestions, items, strict=True):
        events.append(Event(suggestion=s, kind=Event.Kind.REGISTERED, actor=actor, at=_moment(item.assigned_on),
                            data={"number": s.number, "year": s.year}))
        mine = by_suggestion[s.pk]
        for a, replaced in mine:
            events.append(Event(suggestion=s, assignment=a, kind=Event.Kind.ASSIGNED, actor=actor,
                                at=_moment(item.assigned_on),
                                data={"department": a.department.name, "role": a.role,
                                      "due_date": (replaced or a.due_date).isoformat()}))
        for a, replaced in mine:
            if replaced:
                events.append(Event(suggestion=s, assignment=a, kind=Event.Kind.DEADLINE_CHANGED, actor=actor, at=now,
                                    detail=a.due_basis, data={"before": replaced.isoformat(),
                                                              "after": a.due_date.isoformat()}))
        events.append(Event(suggestion=s, kind=Event.Kind.IMPORTED, actor=actor, at=now,
                            detail=f"{file_name} #{item.row}",
                            data={"file": file_name, "row": item.row, "created": True, "changes": []}))
    Event.objects.bulk_create(events, batch_size=2000)

    record_created(suggestions, links={s: {"co_deputies": [d.pk for d in item.co_deputies]}
                                       for s, item in zip(suggestions, items, strict=True)})
    record_created(assignments)
    similarity.index_new(suggestions)
    _notify("assigned", assignment_ids=[a.pk for a in assignments])
    return suggestions


# --- supervision ---
# The moves the supervision app (re-checks, follow-up reviews, the look-back, classes of similar
# items, key suggestions' reports) makes on suggestions. Its own records live in `supervision`;
# every change of a suggestion or an assignment, and every line of the timeline, is written here.
# Supervision lines reuse the existing event kinds (no migration of Event's choices) and name the
# activity in `data["supervision"]`: "recheck", "followup", "lookback", "class", "key_report".

TRANSITIONS.update({
    "reopen_after_recheck": _m({S.REPLIED}, S.REHANDLING, OFFICE, label=gettext_lazy("Reopen after re-check")),
    "reassign_for_lookback": _m({S.REPLIED}, None, OFFICE, label=gettext_lazy("Re-assign for review")),
    "record_lookback_outcome": _m({S.REPLIED, S.HANDLING}, None, OFFICE,
                                  label=gettext_lazy("Record the reviewed outcome")),
    "note_supervision": _m(set(S) - {S.WITHDRAWN}, None, OFFICE, label=gettext_lazy("Record supervision")),
})
SUGGESTION_MOVES.update({"reopen_after_recheck", "reassign_for_lookback", "record_lookback_outcome",
                         "note_supervision"})


def _supervision_text(prefix, text):
    """A stored timeline text in the product's language: the activity, then the user's words."""
    from django.utils import translation

    with translation.override(settings.LANGUAGE_CODE):
        head = str(prefix)
    return f"{head}：{text}" if text else head


@transaction.atomic
def note_supervision(suggestion, *, actor, activity, label, text="", day=None, kind=Event.Kind.PROGRESS,
                     **data):
    """A supervision step that changes no state (a re-check finding, a review, a class link): a timeline line.

    `label` names the step (a lazy translation, stored in the product's language). Only the office
    supervises; the caller has already checked anything more specific (e.g. that a sample is drawn).
    """
    s = _lock_suggestion(suggestion)
    _check(actor, "note_supervision", s)
    return _event(s, kind, actor, detail=_supervision_text(label, text), day=day, supervision=activity, **data)


@transaction.atomic
def reopen_after_recheck(suggestion, *, actor, finding, reopened_on=None, recheck_id=None):
    """A re-check found a "solved" item not done: its lead departments handle it again, with the
    re-handling period as the new deadline. The outcome stands until they reply again."""
    s = _lock_suggestion(suggestion)
    _check(actor, "reopen_after_recheck", s)
    if not finding.strip():
        raise WorkflowError(_("Describe what the re-check found."))
    on = _today(reopened_on)
    due = deadlines.rehandling_deadline(on)
    leads = _reopen_leads(s, on, due)
    _event(s, Event.Kind.REHANDLING, actor, detail=_supervision_text(gettext_lazy("Re-check: not done"), finding),
           day=on, due_date=due.date.isoformat(), supervision="recheck", recheck_id=recheck_id)
    _sync(s)
    _notify("rehandling", assignment_ids=[a.pk for a in leads])
    return leads


@transaction.atomic
def reassign_for_lookback(suggestion, *, actor, department, assigned_on=None, note="", activity="lookback"):
    """Follow-up review or look-back (回头看): give a replied item to a department again.

    Its own lead department gets its assignment back in handling; another department gets a new lead
    assignment, to accept as any other. Either has the reply period from today. The item's outcome
    stands until the department replies again or `record_lookback_outcome` records the new one.
    """
    s = _lock_suggestion(suggestion)
    _check(actor, "reassign_for_lookback", s)
    on = _today(assigned_on)
    due = deadlines.reply_deadline(on)
    current = Assignment.objects.select_for_update().filter(suggestion=s, department=department).exclude(
        state=A.RETURNED).first()
    if current is not None and not (current.is_lead and current.state == A.REPLIED):
        raise WorkflowError(_("%(department)s already holds this item (%(state)s).") % {
            "department": department.name, "state": current.get_state_display()})
    if current is not None:
        a = current
        a.state, a.due_date, a.due_basis, a.due_base, a.due_months = (
            A.HANDLING, due.date, due.basis, on, settings.REPLY_MONTHS)
        _bump(a, "state", "due_date", "due_basis", "due_base", "due_months")
    else:
        a = Assignment.objects.create(suggestion=s, department=department, role=AssignmentRole.LEAD,
                                      assigned_on=on, due_date=due.date, due_basis=due.basis, due_base=on,
                                      due_months=settings.REPLY_MONTHS,
                                      return_deadline=deadlines.return_deadline(on).date)
    label = gettext_lazy("Look-back") if activity == "lookback" else gettext_lazy("Follow-up review")
    _event(s, Event.Kind.ASSIGNED, actor, assignment=a, detail=_supervision_text(label, note), day=on,
           department=department.name, role=AssignmentRole.LEAD, due_date=due.date.isoformat(),
           supervision=activity, reopened=current is not None)
    _sync(s)
    _notify("assigned", assignment_ids=[a.pk])
    return a


@transaction.atomic
def record_lookback_outcome(suggestion, *, actor, outcome, effective_on, note, completion_date=None,
                            activity="lookback"):
    """Record the outcome a review found, dated: every lead part takes it through `change_outcome`,
    so the outcome history (and every as-of report) moves on `effective_on`.

    A part re-assigned and not yet replied is closed as replied first: the office records the
    result the department reported.
    """
    s = _lock_suggestion(suggestion)
    _check(actor, "record_lookback_outcome", s)
    if not note.strip():
        raise WorkflowError(_("Say what the review found."))
    if effective_on > timezone.localdate():
        raise WorkflowError(_("The change cannot be dated in the future."))
    if outcome in OUTCOMES_NEEDING_DATE and completion_date is None:
        raise WorkflowError(_("“Being solved” and “planned” outcomes must state a completion date."))
    leads = list(Assignment.objects.select_for_update().filter(suggestion=s, role=AssignmentRole.LEAD)
                 .exclude(state=A.RETURNED).select_related("department").order_by("pk"))
    closed = []
    for a in leads:
        if a.state == A.RETURN_REQUESTED:
            raise WorkflowError(_("%(department)s has asked to return the item: decide that first.") % {
                "department": a.department.name})
        if a.state != A.REPLIED:
            a.state = A.REPLIED
            a.first_replied_on = a.first_replied_on or effective_on
            a.accepted_at = a.accepted_at or _moment(effective_on)
            _bump(a, "state", "first_replied_on", "accepted_at")
            closed.append(a)
    changing = [a for a in leads if a.outcome != outcome]
    label = gettext_lazy("Look-back") if activity == "lookback" else gettext_lazy("Follow-up review")
    if not changing and not closed:
        from .choices import Outcome

        raise WorkflowError(_("The outcome is already “%(outcome)s”.") % {"outcome": Outcome(outcome).label})
    # A re-assigned part that keeps its outcome is closed with a line saying so.
    for a in closed:
        if a.outcome == outcome:
            _event(s, Event.Kind.PROGRESS, actor, assignment=a, detail=_supervision_text(label, note),
                   day=effective_on, department=a.department.name, outcome=outcome, supervision=activity,
                   completion_date=completion_date.isoformat() if completion_date else None)
    # Parts without an outcome yet go last: the item's outcome is recorded once every part has one.
    for a in sorted(changing, key=lambda a: not a.outcome):
        change_outcome(a, actor=actor, outcome=outcome, effective_on=effective_on,
                       note=_supervision_text(label, note), completion_date=completion_date)
    if not changing:
        _sync(s)
    s.refresh_from_db()
    return s
