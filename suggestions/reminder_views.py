"""The page of reminders sent (`suggestions:reminders`): a coordinator sees everyone's and may run
today's scan now; anyone else sees the reminders sent to them."""
import datetime as dt

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Count
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _

from departments import scoping

from . import reminders, tasks
from .models import Reminder

PAGE_SIZE = 50


@login_required
def reminder_list(request):
    coordinator = scoping.is_coordinator(request.user)
    if request.method == "POST":
        if not coordinator:
            raise PermissionDenied
        queued = tasks.enqueue(tasks.send_reminders, timezone.localdate().isoformat())
        if queued.ok is False:
            messages.error(request, _("The task queue cannot be reached; the next daily scan will send the "
                                      "reminders."))
        else:
            messages.success(request, _("Today's scan has been queued; its reminders appear here once sent."))
        return redirect("suggestions:reminders")
    rows = Reminder.objects.all() if coordinator else Reminder.objects.filter(recipient=request.user)
    day = _date(request.GET.get("date"))
    if day:
        rows = rows.filter(scan_date=day)
    counts = dict(rows.order_by().values_list("state").annotate(n=Count("pk")))
    rows = rows.select_related("recipient", "assignment__suggestion", "assignment__department").order_by(
        "-scan_date", "recipient__username", "threshold", "pk")
    page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
    for r in page:
        r.label = (_("overdue summary") if r.kind == Reminder.Kind.SUMMARY
                   else reminders.threshold_label(r.threshold))
    states = [(s, label, counts.get(s, 0)) for s, label in Reminder.State.choices]
    return render(request, "suggestions/reminders.html", {
        "page": page, "coordinator": coordinator, "date": day, "states": states,
        "query": f"date={day.isoformat()}" if day else ""})


def _date(raw):
    try:
        return dt.date.fromisoformat(raw) if raw else None
    except ValueError:
        return None
