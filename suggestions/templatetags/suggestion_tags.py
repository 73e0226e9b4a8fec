"""Template helpers for the suggestion pages."""
from django import template
from django.utils.translation import gettext as _

from ..choices import AssignmentRole, ContactMethod, Outcome, Rating

register = template.Library()


def _label(choices, value):
    try:
        return choices(value).label
    except ValueError:
        return value or ""


@register.filter
def event_summary(event):
    """One line saying what an event changed, from its recorded data."""
    d = event.data or {}
    parts = []
    if d.get("department"):
        role = _label(AssignmentRole, d["role"]) if d.get("role") else ""
        parts.append(f"{d['department']}{'（' + role + '）' if role else ''}")
    if d.get("outcome"):
        parts.append(_("outcome: %(o)s") % {"o": _label(Outcome, d["outcome"])})
    if d.get("before") and d.get("after") and event.kind == "outcome_changed":
        parts.append(f"{_label(Outcome, d['before'])} → {_label(Outcome, d['after'])}")
    elif d.get("before") and d.get("after"):
        parts.append(f"{d['before']} → {d['after']}")
    if d.get("result"):
        parts.append(_("result: %(r)s, attitude: %(a)s") % {"r": _label(Rating, d["result"]),
                                                              "a": _label(Rating, d.get("attitude"))})
    if d.get("method"):
        parts.append(_label(ContactMethod, d["method"]))
    if d.get("document_number"):
        parts.append(_("document %(n)s") % {"n": d["document_number"]})
    if d.get("on_time") is False:
        parts.append(_("late"))
    if d.get("due_date"):
        parts.append(_("due %(d)s") % {"d": d["due_date"]})
    if d.get("requested_due"):
        parts.append(_("requested to %(d)s") % {"d": d["requested_due"]})
    if d.get("changes"):
        parts.append(_("changed: %(f)s") % {"f": "、".join(d["changes"])})
    return " · ".join(str(p) for p in parts)


@register.simple_tag
def step_url(action, assignment=None, suggestion=None):
    """Where a step's form posts."""
    from django.urls import reverse

    if action.get("reply"):
        return reverse("suggestions:reply_step", args=[action["reply"].pk, action["name"]])
    if action.get("extension"):
        return reverse("suggestions:extension_step", args=[action["extension"].pk])
    if assignment:
        return reverse("suggestions:assignment_step", args=[assignment.pk, action["name"]])
    return reverse("suggestions:suggestion_step", args=[suggestion.pk, action["name"]])
