"""The working-day calendar's administration: its admin page, and what every change to it sets off.

A change to the calendar (a day edited or deleted here, a year loaded by `load_calendar`) goes
through `calendar_changed`, in the same transaction: the cached calendar is dropped and every open
deadline that could fall on, or be moved across, a changed day (the reply and opinion deadlines,
and the return windows still open) is recomputed by `workflow.recompute_deadline`, which records
an event on each one that moves. The calendar and the deadlines computed from it are therefore
never seen out of step.
"""
import datetime as dt

from django.contrib import admin
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from . import deadlines, workflow
from .choices import OPEN_ASSIGNMENT_STATES
from .models import Assignment, WorkCalendarDay

# A deadline moved to the next working day lands at most one run of holidays after its raw date;
# the longest such run (Spring Festival, National Day) is nine days.
ROLL_MARGIN = dt.timedelta(days=31)


def calendar_changed(dates, actor=None, today=None):
    """Recompute the open deadlines a change of these calendar days may move; return the
    assignments of which one moved.

    A deadline in months is affected when a changed day lies between its raw date (start + months)
    and the working day it was moved to, so its stored date is on or after the first changed day and
    at most ROLL_MARGIN after the last one. A return window (working days after the assignment) is
    affected when a changed day lies after its start and on or before its end; only a window still
    open on `today` is moved.
    """
    dates = sorted(set(dates))
    deadlines.clear_cache()
    # Other requests of this process read the calendar after the commit, not what a rollback undid.
    transaction.on_commit(deadlines.clear_cache)
    if not dates:
        return []
    today = today or timezone.localdate()
    due = Q(state__in=OPEN_ASSIGNMENT_STATES, due_base__isnull=False, due_date__gte=dates[0],
            due_date__lte=dates[-1] + ROLL_MARGIN)
    window = Q(state__in=workflow.TRANSITIONS["request_return"].sources, return_deadline__gte=max(dates[0], today),
               assigned_on__lt=dates[-1])
    candidates = Assignment.objects.filter(due | window).order_by("due_date", "pk")
    moved = []
    for a in list(candidates):  # read first: each recompute writes to the rows being read
        before = (a.due_date, a.return_deadline)
        a = workflow.recompute_deadline(a, actor=actor, today=today)
        if (a.due_date, a.return_deadline) != before:
            moved.append(a)
    return moved


class YearFilter(admin.SimpleListFilter):
    title = _("year")
    parameter_name = "year"

    def lookups(self, request, model_admin):
        years = WorkCalendarDay.objects.dates("date", "year")
        return [(d.year, d.year) for d in years]

    def queryset(self, request, queryset):
        return queryset.filter(date__year=self.value()) if self.value() else queryset


@admin.register(WorkCalendarDay)
class WorkCalendarDayAdmin(admin.ModelAdmin):
    """Holidays and make-up working days, edited when the State Council publishes a year's schedule
    (a whole year is quicker with `manage.py load_calendar`). Each save recomputes the open deadlines."""

    list_display = ["date", "weekday", "is_workday", "name"]
    list_filter = [YearFilter, "is_workday"]
    search_fields = ["name"]
    date_hierarchy = "date"
    list_per_page = 62

    @admin.display(description=_("weekday"))
    def weekday(self, obj):
        return "一二三四五六日"[obj.date.weekday()]

    def get_readonly_fields(self, request, obj=None):
        return ["date"] if obj else []  # the date is the key: another day is another row

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        self._recompute(request, [obj.date])

    def delete_model(self, request, obj):
        day = obj.date
        super().delete_model(request, obj)
        self._recompute(request, [day])

    def delete_queryset(self, request, queryset):
        days = list(queryset.values_list("date", flat=True))
        super().delete_queryset(request, queryset)
        self._recompute(request, days)

    def _recompute(self, request, days):
        moved = calendar_changed(days, actor=request.user)
        if moved:
            self.message_user(request, ngettext(
                "%(n)s open deadline was recomputed.", "%(n)s open deadlines were recomputed.", len(moved)) % {
                "n": len(moved)})
