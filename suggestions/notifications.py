"""Telling people what needs them: in-app notifications written after a workflow step commits.

They are written straight to the database, so a step never fails because the broker is down;
e-mail digests of deadlines are the reminder scan's job (`suggestions.reminders`).
"""
from django.contrib.auth import get_user_model
from django.urls import reverse
from django.utils.translation import gettext as _

from departments.models import Membership

from .models import Assignment, ExportJob, ExtensionRequest, Notification, Reply

COORDINATOR_KINDS = {"return_requested", "reply_signed", "extension_requested"}


def _members(department_ids):
    """{department id: [(user id, role)]} in one query."""
    members = {}
    if department_ids:
        for dept, user, role in Membership.objects.filter(department_id__in=department_ids).values_list(
                "department_id", "user_id", "role"):
            members.setdefault(dept, []).append((user, role))
    return members


def _coordinators():
    from departments.scoping import COORDINATOR

    return list(get_user_model().objects.filter(groups__name=COORDINATOR, is_active=True)
                .values_list("pk", flat=True))


def enqueue(kind, assignment_ids=(), reply_ids=(), extension_ids=()):
    """Write the notifications of one kind of step for the objects named, any number of them, in a
    fixed number of queries."""
    assignments = list(Assignment.objects.filter(pk__in=assignment_ids).select_related("suggestion", "department"))
    replies = list(Reply.objects.filter(pk__in=reply_ids).select_related("assignment__suggestion"))
    extensions = list(ExtensionRequest.objects.filter(pk__in=extension_ids).select_related("assignment__suggestion"))
    leads_of = {}
    if kind == "opinion_sent":
        for lead in Assignment.objects.filter(suggestion__in={a.suggestion_id for a in assignments},
                                              role="lead").exclude(state="returned"):
            leads_of.setdefault(lead.suggestion_id, []).append(lead.department_id)
    members = _members({a.department_id for a in assignments} | {r.assignment.department_id for r in replies}
                       | {d for ids in leads_of.values() for d in ids})
    coordinators = _coordinators() if kind in COORDINATOR_KINDS else []
    rows = []

    def send(user_ids, suggestion, text):
        rows.extend(Notification(recipient_id=u, suggestion=suggestion, text=text) for u in set(user_ids))

    def users(department_id, leaders_only=False):
        return [u for u, role in members.get(department_id, ()) if not leaders_only or role == Membership.Role.LEADER]

    for a in assignments:
        s = a.suggestion
        if kind == "assigned":
            send(users(a.department_id), s,
                 _("New assignment: %(number)s %(title)s") % {"number": s.number, "title": s.title})
        elif kind == "rehandling":
            send(users(a.department_id), s,
                 _("Re-handling ordered: %(number)s %(title)s") % {"number": s.number, "title": s.title})
        elif kind == "return_requested":
            send(coordinators, s, _("%(department)s asks to return %(number)s") % {
                "department": a.department.name, "number": s.number})
        elif kind == "return_window_moved":
            send(users(a.department_id), s, _(
                "The time to ask to return %(number)s now ends on %(date)s: the working-day calendar changed.")
                % {"number": s.number, "date": a.return_deadline.isoformat()})
        elif kind == "return_window_closed":
            send(users(a.department_id), s, _(
                "The time to ask to return %(number)s ended on %(date)s: the working-day calendar changed.")
                % {"number": s.number, "date": a.return_deadline.isoformat()})
        elif kind == "opinion_sent":
            for lead_department in leads_of.get(s.pk, ()):
                send(users(lead_department), s, _("%(department)s sent its opinion on %(number)s") % {
                    "department": a.department.name, "number": s.number})
    for r in replies:
        s = r.assignment.suggestion
        if kind == "reply_drafted":
            send(users(r.assignment.department_id, leaders_only=True), s,
                 _("A reply to %(number)s awaits your approval") % {"number": s.number})
        elif kind == "reply_signed":
            send(coordinators, s, _("Reply sent: %(number)s %(title)s") % {"number": s.number, "title": s.title})
    for e in extensions:
        send(coordinators, e.assignment.suggestion, _("Extension requested for %(number)s") % {
            "number": e.assignment.suggestion.number})
    Notification.objects.bulk_create(rows, batch_size=1000)


def export_finished(job):
    """Tell whoever asked for a background export that it is done (or failed), with a link to its
    page: they may have left the progress page long ago."""
    if job.state == ExportJob.State.DONE:
        text = _("Your export %(name)s is ready to download (%(rows)s rows).") % {
            "name": job.file_name, "rows": job.total_rows}
    else:
        text = _("Your export %(name)s stopped on an error.") % {"name": job.file_name}
    Notification.objects.create(recipient=job.created_by, text=text,
                                url=reverse("suggestions:export_job", args=[job.pk]))
