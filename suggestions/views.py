"""The suggestion pages. Each view loads through the user's scope, validates a form, calls one
workflow function and redirects; out of scope is 404, in scope but not allowed is 403."""
from collections import namedtuple

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db import transaction
from django.db.models import Prefetch, Q
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from departments import scoping

from . import deadlines, filters, forms, workflow
from .choices import OPEN_ASSIGNMENT_STATES, AssignmentRole, AssignmentState, ExtensionState, ReplyState
from .models import Assignment, ExtensionRequest, Notification, Reply, Suggestion

PAGE_SIZE = 25
DUE_SOON_WORKDAYS = 10


Lead = namedtuple("Lead", "department state due_date")


def _attach_leads(rows):
    """Each row's lead departments and their deadlines as `row.leads`, for the whole page in one query
    of plain values (model instances of the assignments and departments cost more than the query)."""
    leads = {}
    for pk, *lead in (Assignment.objects.filter(suggestion__in=rows, role=AssignmentRole.LEAD)
                      .exclude(state=AssignmentState.RETURNED).order_by("pk")
                      .values_list("suggestion_id", "department__name", "state", "due_date")):
        leads.setdefault(pk, []).append(Lead(*lead))
    for row in rows:
        row.leads = leads.get(row.pk, [])
    return rows


# The list's columns: the rows are read with these alone (a suggestion's content can be long).
LIST_FIELDS = ("year", "number", "title", "is_key", "state", "outcome", "lead_deputy__name")


# --- dashboard --------------------------------------------------------------------------------

@login_required
def dashboard(request):
    """What needs the user today, by role."""
    a = scoping.access(request.user)
    today = timezone.localdate()
    soon = deadlines.add_workdays(today, DUE_SOON_WORKDAYS)
    open_assignments = (scoping.assignments(request.user)
                        .filter(state__in=OPEN_ASSIGNMENT_STATES).exclude(suggestion__state="withdrawn")
                        .select_related("suggestion", "department").order_by("due_date", "pk"))
    panels = []

    def panel(key, title, rows, kind="assignments"):
        panels.append({"key": key, "title": title, "count": rows.count(), "rows": list(rows[:10]), "kind": kind})

    if a.coordinator:
        panel("unassigned", _("Registered, not yet assigned"),
              Suggestion.objects.filter(state="registered").order_by("-year", "number"), "suggestions")
        panel("returns", _("Return requests to decide"),
              open_assignments.filter(state=AssignmentState.RETURN_REQUESTED))
        panel("extensions", _("Extension requests to decide"),
              ExtensionRequest.objects.filter(state=ExtensionState.PENDING)
              .select_related("assignment__suggestion", "assignment__department"), "extensions")
    if a.is_department_user:
        panel("to_accept", _("To accept"), open_assignments.filter(state=AssignmentState.PENDING))
        if a.leader_department_ids:
            panel("to_sign", _("Replies awaiting approval"),
                  Reply.objects.filter(state=ReplyState.PENDING, assignment__department_id__in=a.leader_department_ids)
                  .select_related("assignment__suggestion", "assignment__department"), "replies")
        panel("sent_back", _("Drafts sent back for revision"),
              Reply.objects.filter(state=ReplyState.SENT_BACK, assignment__department_id__in=a.department_ids,
                                   assignment__state__in=[AssignmentState.HANDLING, AssignmentState.REHANDLING])
              .exclude(assignment__replies__state=ReplyState.PENDING)
              .select_related("assignment__suggestion", "assignment__department").distinct(), "replies")
    if a.coordinator or a.is_department_user:
        working = open_assignments.exclude(state=AssignmentState.RETURN_REQUESTED)
        panel("overdue", _("Overdue"), working.filter(due_date__lt=today))
        panel("due_soon", _("Due within %(n)s working days") % {"n": DUE_SOON_WORKDAYS},
              working.filter(due_date__gte=today, due_date__lte=soon))
    if a.coordinator or a.liaison:
        panel("feedback", _("Awaiting the deputy's feedback"),
              Suggestion.objects.filter(awaiting_feedback=True, state="replied").order_by("-year", "number"),
              "suggestions")
    if a.deputy_id:
        panel("mine", _("My suggestions"), scoping.suggestions(request.user).order_by("-year", "number"),
              "suggestions")
    warning = deadlines.calendar_warning(today) if a.coordinator and hasattr(deadlines, "calendar_warning") else None
    return render(request, "suggestions/dashboard.html", {"panels": panels, "today": today,
                                                          "calendar_warning": warning})


# --- list and detail --------------------------------------------------------------------------

def filtered_suggestions(request):
    """The list's pipeline, shared with the export: scope → FilterSet."""
    return filters.for_user(request.user, request.GET)


@login_required
def suggestion_list(request):
    f = filtered_suggestions(request)
    qs = f.qs if f.is_bound else f.queryset
    qs = qs.select_related("lead_deputy").only(*LIST_FIELDS).order_by("-year", "number", "pk")
    page = Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
    page.object_list = _attach_leads(list(page.object_list))
    query = request.GET.copy()
    query.pop("page", None)
    return render(request, "suggestions/list.html", {"filter": f, "page": page, "query": query.urlencode(),
                                                     "today": timezone.localdate()})


def _scoped_suggestion(request, pk):
    return get_object_or_404(scoping.suggestions(request.user).select_related(
        "lead_deputy", "category", "street"), pk=pk)


@login_required
def suggestion_detail(request, pk, bound=None):
    """The whole file of one suggestion: facts, departments, replies, ratings, timeline, and the
    forms of the steps this user may take now."""
    s = _scoped_suggestion(request, pk)
    user = request.user
    assignments = list(s.assignments.select_related("department").prefetch_related(
        "contacts", "opinions", "progress_notes",
        Prefetch("replies", queryset=Reply.objects.select_related("signed_by", "drafted_by")),
        Prefetch("extensions", queryset=ExtensionRequest.objects.order_by("pk"))).order_by("role", "pk"))
    visible_ids = scoping.access(user).department_ids
    sees_all = scoping.access(user).sees_everything
    today = timezone.localdate()
    for a in assignments:
        a.mine = a.department_id in visible_ids
        a.actions = _assignment_actions(request, a, bound)
        a.pending_reply = next((r for r in a.replies.all() if r.state == ReplyState.PENDING), None)
        a.pending_extension = next((e for e in a.extensions.all() if e.state == ExtensionState.PENDING), None)
        a.blockers = workflow.reply_blockers(a, today) if "draft_reply" in {x["name"] for x in a.actions} else []
        a.overdue = a.state in OPEN_ASSIGNMENT_STATES and a.due_date < today
        a.show_internal = sees_all or a.mine
    # Recorded order: a step dated in the past (an import, a late entry) still stands where it was recorded.
    events = list(s.events.select_related("actor").order_by("pk"))
    context = {
        "s": s,
        "assignments": assignments,
        "co_deputies": list(s.co_deputies.all()),
        "feedback": list(s.feedback.select_related("recorded_by").order_by("recorded_on", "pk")),
        "outcomes": list(s.outcome_records.order_by("effective_on", "pk")),
        "events": events,
        "actions": _suggestion_actions(request, s, bound),
        "today": today,
        "similar_template": _optional_template("supervision/_similar.html"),
    }
    return render(request, "suggestions/detail.html", context, status=400 if bound else 200)


def _optional_template(name):
    from django.template import TemplateDoesNotExist
    from django.template.loader import get_template

    try:
        get_template(name)
    except TemplateDoesNotExist:
        return None
    return name


# --- workflow steps ---------------------------------------------------------------------------
# Each step: the form, the workflow function called with the form's data, and what it acts on.

def _call(fn, **fixed):
    return lambda obj, user, data: fn(obj, actor=user, **fixed, **data)


SUGGESTION_STEPS = {
    "assign": (forms.AssignForm, _call(workflow.assign)),
    "record_feedback": (forms.FeedbackForm, _call(workflow.record_feedback)),
    "order_rehandling": (forms.RehandlingForm, _call(workflow.order_rehandling)),
    "withdraw": (forms.ReasonForm, _call(workflow.withdraw)),
}
ASSIGNMENT_STEPS = {
    "accept": (None, _call(workflow.accept)),
    "request_return": (forms.ReasonForm, _call(workflow.request_return)),
    "approve_return": (forms.ApproveReturnForm, _call(workflow.approve_return)),
    "refuse_return": (forms.ReasonForm, _call(workflow.refuse_return)),
    "add_progress": (forms.ProgressForm, _call(workflow.add_progress)),
    "add_contact": (forms.ContactForm, _call(workflow.add_contact)),
    "send_opinion": (forms.OpinionForm, _call(workflow.send_opinion)),
    "draft_reply": (forms.ReplyForm, _call(workflow.draft_reply)),
    "request_extension": (forms.ExtensionRequestForm, _call(workflow.request_extension)),
    "change_outcome": (forms.OutcomeChangeForm, _call(workflow.change_outcome)),
}
REPLY_STEPS = {
    "sign_reply": (forms.SignForm, _call(workflow.sign_reply)),
    "send_back_reply": (forms.ReasonForm, _call(workflow.send_back_reply)),
}
EXTENSION_STEPS = {
    "decide_extension": (forms.ExtensionDecisionForm, _call(workflow.decide_extension)),
}


def _form_for(form_class, name, bound):
    if form_class is None:
        return None
    if bound and bound[0] == name:
        return bound[1]
    return form_class(prefix=name)


def _suggestion_actions(request, s, bound):
    return [{"name": name, "label": workflow.TRANSITIONS[name].label, "form": _form_for(fc, name, bound)}
            for name, (fc, _fn) in SUGGESTION_STEPS.items() if workflow.allowed(request.user, name, s)]


def _assignment_actions(request, a, bound):
    key = lambda name: f"{name}-{a.pk}"  # noqa: E731
    actions = []
    for name, (fc, _fn) in ASSIGNMENT_STEPS.items():
        if not workflow.allowed(request.user, name, a):
            continue
        if name == "request_return" and a.return_deadline and timezone.localdate() > a.return_deadline:
            continue
        if name == "draft_reply" and any(r.state == ReplyState.PENDING for r in a.replies.all()):
            continue
        if name == "request_extension" and any(e.state == ExtensionState.PENDING for e in a.extensions.all()):
            continue
        actions.append({"name": name, "label": workflow.TRANSITIONS[name].label,
                        "form": _form_for(fc, key(name), bound), "url_name": "assignment_step",
                        "prefix": key(name), "version": a.version})
    for reply in a.replies.all():
        if reply.state != ReplyState.PENDING:
            continue
        for name, (fc, _fn) in REPLY_STEPS.items():
            if workflow.allowed(request.user, name, a):
                actions.append({"name": name, "label": workflow.TRANSITIONS[name].label, "reply": reply,
                                "form": _form_for(fc, f"{name}-{reply.pk}", bound),
                                "prefix": f"{name}-{reply.pk}", "version": a.version})
    for ext in a.extensions.all():
        if ext.state == ExtensionState.PENDING and workflow.allowed(request.user, "decide_extension", a):
            actions.append({"name": "decide_extension", "label": workflow.TRANSITIONS["decide_extension"].label,
                            "extension": ext, "form": _form_for(forms.ExtensionDecisionForm,
                                                                f"decide_extension-{ext.pk}", bound),
                            "prefix": f"decide_extension-{ext.pk}", "version": a.version})
    return actions


def _posted_version(request, prefix):
    """The assignment version the page showed (hidden `<prefix>-version`); None when absent or not a number."""
    try:
        return int(request.POST.get(f"{prefix}-version", ""))
    except ValueError:
        return None


def _run_step(request, suggestion, obj, name, steps, prefix, version=None):
    """Validate the step's form and call the workflow; on a problem show the page again with it.

    `version`: the assignment's version on the page the user acted from; a stale one is refused
    with 409 and the page shown again from the saved rows, the user's input kept.
    """
    form_class, fn = steps[name]
    form = form_class(request.POST, request.FILES, prefix=prefix) if form_class else None
    if form is not None and not form.is_valid():
        messages.error(request, _("Please correct the errors below."))
        return suggestion_detail(request, suggestion.pk, bound=(prefix, form))
    data = dict(form.cleaned_data) if form else {}
    if version is not None:
        data["expected_version"] = version
    try:
        fn(obj, request.user, data)
    except workflow.WorkflowError as e:
        messages.error(request, str(e))
        if form is not None:
            form.add_error(None, str(e))
        if isinstance(e, workflow.StaleVersion):
            response = suggestion_detail(request, suggestion.pk, bound=(prefix, form) if form else None)
            response.status_code = 409
            return response
        return suggestion_detail(request, suggestion.pk, bound=(prefix, form)) if form else redirect(
            "suggestions:detail", suggestion.pk)
    messages.success(request, _("“%(step)s” done.") % {"step": workflow.TRANSITIONS[name].label})
    return redirect("suggestions:detail", suggestion.pk)


def _refused(request, suggestion, assignment, prefix):
    """403; but a step posted from a page older than the assignment (the step is no longer
    possible because someone else moved it on) gets 409 and the page as it is now, to show why."""
    try:
        workflow._check_version(assignment, _posted_version(request, prefix))
    except workflow.StaleVersion as e:
        messages.error(request, str(e))
        response = suggestion_detail(request, suggestion.pk)
        response.status_code = 409
        return response
    raise PermissionDenied


def _step_or_404(steps, name):
    if name not in steps:
        raise Http404
    return name


@login_required
@require_POST
def suggestion_step(request, pk, step):
    _step_or_404(SUGGESTION_STEPS, step)
    s = _scoped_suggestion(request, pk)
    if not workflow.allowed(request.user, step, s):
        raise PermissionDenied
    return _run_step(request, s, s, step, SUGGESTION_STEPS, step)


@login_required
@require_POST
def assignment_step(request, pk, step):
    _step_or_404(ASSIGNMENT_STEPS, step)
    a = get_object_or_404(scoping.assignments(request.user).select_related("suggestion"), pk=pk)
    prefix = f"{step}-{a.pk}"
    if not workflow.allowed(request.user, step, a):
        return _refused(request, a.suggestion, a, prefix)
    return _run_step(request, a.suggestion, a, step, ASSIGNMENT_STEPS, prefix, _posted_version(request, prefix))


@login_required
@require_POST
def reply_step(request, pk, step):
    _step_or_404(REPLY_STEPS, step)
    r = get_object_or_404(Reply.objects.filter(assignment__in=scoping.assignments(request.user))
                          .select_related("assignment__suggestion"), pk=pk)
    prefix = f"{step}-{r.pk}"
    if not workflow.allowed(request.user, step, r.assignment):
        return _refused(request, r.assignment.suggestion, r.assignment, prefix)
    return _run_step(request, r.assignment.suggestion, r, step, REPLY_STEPS, prefix, _posted_version(request, prefix))


@login_required
@require_POST
def extension_step(request, pk):
    e = get_object_or_404(ExtensionRequest.objects.filter(assignment__in=scoping.assignments(request.user))
                          .select_related("assignment__suggestion"), pk=pk)
    prefix = f"decide_extension-{e.pk}"
    if not workflow.allowed(request.user, "decide_extension", e.assignment):
        return _refused(request, e.assignment.suggestion, e.assignment, prefix)
    return _run_step(request, e.assignment.suggestion, e, "decide_extension", EXTENSION_STEPS, prefix,
                     _posted_version(request, prefix))


@login_required
def reply_attachment(request, pk):
    """Attachments are served only through the scope, never from a public media path: a draft's to
    its department and the office, a sent reply's to whoever sees the suggestion (its deputy too)."""
    visible = Reply.objects.filter(Q(assignment__in=scoping.assignments(request.user)) | Q(
        state=ReplyState.SENT, assignment__suggestion__in=scoping.suggestions(request.user)))
    r = get_object_or_404(visible, pk=pk)
    if not r.attachment:
        raise Http404
    return FileResponse(r.attachment.open("rb"), as_attachment=True,
                        filename=r.attachment.name.rsplit("/", 1)[-1])


# --- registering and editing ------------------------------------------------------------------

@login_required
def suggestion_create(request):
    if not scoping.is_coordinator(request.user):
        raise PermissionDenied
    form = forms.RegisterForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            with transaction.atomic():  # a refused registration leaves no new deputy behind either
                lead, co = form.deputies()
                s = workflow.register(actor=request.user, year=data["year"], number=data["number"],
                                      lead_deputy=lead, co_deputies=co,
                                      **{k: v for k, v in form.changes().items() if k != "lead_deputy"})
                if data.get("lead"):
                    workflow.assign(s, actor=request.user, lead=data["lead"], co=data.get("co") or [],
                                    assigned_on=data["assigned_on"])
        except workflow.WorkflowError as e:
            form.add_error(None, str(e))
        else:
            messages.success(request, _("Suggestion %(number)s registered.") % {"number": s.number})
            return redirect("suggestions:detail", s.pk)
    return render(request, "suggestions/form.html", {"form": form, "title": _("Register a suggestion")},
                  status=400 if form.errors else 200)


@login_required
def suggestion_edit(request, pk):
    s = _scoped_suggestion(request, pk)
    if not workflow.allowed(request.user, "update", s):
        raise PermissionDenied
    form = forms.SuggestionForm(request.POST or None, instance=s)
    if request.method == "POST" and form.is_valid():
        try:
            with transaction.atomic():
                lead, co = form.deputies()
                workflow.update(s, actor=request.user, expected_version=form.cleaned_data.get("version"),
                                co_deputies=co, **{**form.changes(), "lead_deputy": lead})
        except workflow.WorkflowError as e:
            form.add_error(None, str(e))
            s.refresh_from_db()
            return render(request, "suggestions/form.html", {
                "form": form, "title": _("Edit suggestion"), "s": s, "differences": form.differences(s)},
                status=409)
        messages.success(request, _("Changes saved."))
        return redirect("suggestions:detail", s.pk)
    return render(request, "suggestions/form.html", {"form": form, "title": _("Edit suggestion"), "s": s},
                  status=400 if form.errors else 200)


# --- notifications ----------------------------------------------------------------------------

@login_required
def notifications(request):
    items = Notification.objects.filter(recipient=request.user).select_related("suggestion")
    if request.method == "POST":
        items.filter(read_at__isnull=True).update(read_at=timezone.now())
        return redirect("suggestions:notifications")
    page = Paginator(items, 50).get_page(request.GET.get("page"))
    return render(request, "suggestions/notifications.html", {"page": page})

