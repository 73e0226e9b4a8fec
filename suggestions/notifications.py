"""Telling people what needs them: in-app notifications written after a workflow step commits.

They are written straight to the database, so a step never fails because the broker is down;
e-mail digests of deadlines are the reminder scan's job (`suggestions.reminders`).
"""
from django.contrib.auth import get_user_model
from django.utils.translation import gettext as _

from departments.models import Membership

from .models import Assignment, ExtensionRequest, Notification, Reply


def _department_users(department_id, leaders_only=False):
    qs = Membership.objects.filter(department_id=department_id)
    if leaders_only:
        qs = qs.filter(role=Membership.Role.LEADER)
    return list(qs.values_list("user_id", flat=True))


def _coordinators():
    from departments.scoping import COORDINATOR

    return list(get_user_model().objects.filter(groups__name=COORDINATOR, is_active=True)
                .values_list("pk", flat=True))


def _send(user_ids, suggestion, text):
    Notification.objects.bulk_create(
        [Notification(recipient_id=u, suggestion=suggestion, text=text) for u in set(user_ids)])


def enqueue(kind, assignment_ids=(), reply_ids=(), extension_ids=()):
    for a in Assignment.objects.filter(pk__in=assignment_ids).select_related("suggestion", "department"):
        s = a.suggestion
        if kind == "assigned":
            _send(_department_users(a.department_id), s,
                  _("New assignment: %(number)s %(title)s") % {"number": s.number, "title": s.title})
        elif kind == "rehandling":
            _send(_department_users(a.department_id), s,
                  _("Re-handling ordered: %(number)s %(title)s") % {"number": s.number, "title": s.title})
        elif kind == "return_requested":
            _send(_coordinators(), s, _("%(department)s asks to return %(number)s") % {
                "department": a.department.name, "number": s.number})
        elif kind == "opinion_sent":
            for lead in s.assignments.filter(role="lead").exclude(state="returned"):
                _send(_department_users(lead.department_id), s, _("%(department)s sent its opinion on %(number)s") % {
                    "department": a.department.name, "number": s.number})
    for r in Reply.objects.filter(pk__in=reply_ids).select_related("assignment__suggestion"):
        s = r.assignment.suggestion
        if kind == "reply_drafted":
            _send(_department_users(r.assignment.department_id, leaders_only=True), s,
                  _("A reply to %(number)s awaits your approval") % {"number": s.number})
        elif kind == "reply_signed":
            _send(_coordinators(), s, _("Reply sent: %(number)s %(title)s") % {"number": s.number, "title": s.title})
    for e in ExtensionRequest.objects.filter(pk__in=extension_ids).select_related("assignment__suggestion"):
        _send(_coordinators(), e.assignment.suggestion, _("Extension requested for %(number)s") % {
            "number": e.assignment.suggestion.number})
