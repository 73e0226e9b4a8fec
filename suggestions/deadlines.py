"""Deadlines on China's working-day calendar, from the rules in settings.

Calendar-month periods end on the same day of the month (or the month's last day when it has no
such day), then move to the next working day. Working-day periods count working days after the
start. Each result carries a sentence saying how it was worked out, shown on the pages.
"""
import calendar
import datetime as dt
import time
from dataclasses import dataclass

from django.conf import settings
from django.utils import translation
from django.utils.translation import gettext as _

from .models import WorkCalendarDay

_CACHE_SECONDS = 60
_cache = {"loaded_at": 0.0, "days": {}, "years": frozenset()}


@dataclass(frozen=True)
class Deadline:
    date: dt.date
    basis: str


def clear_cache():
    _cache["loaded_at"] = 0.0


def _calendar():
    """{date: (is_workday, name)} for every stored day, refreshed at most once a minute."""
    if time.monotonic() - _cache["loaded_at"] > _CACHE_SECONDS:
        days = {d: (w, n) for d, w, n in WorkCalendarDay.objects.values_list("date", "is_workday", "name")}
        _cache.update(days=days, years=frozenset(d.year for d in days), loaded_at=time.monotonic())
    return _cache


def known_years():
    return _calendar()["years"]


def day_info(day):
    """(is_workday, holiday name) of a day; outside known years, Monday–Friday work."""
    cal = _calendar()
    if day in cal["days"]:
        return cal["days"][day]
    return day.weekday() < 5, ""


def is_workday(day):
    return day_info(day)[0]


def next_workday(day):
    """The day itself when it is a working day, otherwise the first working day after it."""
    while not is_workday(day):
        day += dt.timedelta(days=1)
    return day


def add_months(day, months):
    month0 = day.month - 1 + months
    year, month = day.year + month0 // 12, month0 % 12 + 1
    return dt.date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def add_workdays(day, count):
    while count > 0:
        day += dt.timedelta(days=1)
        if is_workday(day):
            count -= 1
    return day


def months_after(start, months, label):
    """`start` + `months` calendar months, moved to the next working day."""
    with translation.override(settings.LANGUAGE_CODE):
        raw = add_months(start, months)
        due = next_workday(raw)
        basis = _("%(label)s %(start)s + %(n)s months = %(raw)s") % {
            "label": label, "start": start.isoformat(), "n": months, "raw": raw.isoformat()}
        if due != raw:
            holiday = day_info(raw)[1]
            reason = holiday or _("weekend")
            basis += _(", %(reason)s, moved to %(due)s") % {"reason": reason, "due": due.isoformat()}
        if raw.year not in known_years():
            basis += _(" (holidays of %(year)s not yet entered: Monday to Friday assumed)") % {"year": raw.year}
        return Deadline(due, basis)


def reply_deadline(assigned_on):
    with translation.override(settings.LANGUAGE_CODE):
        return months_after(assigned_on, settings.REPLY_MONTHS, _("assigned"))


def extension_cap(assigned_on):
    with translation.override(settings.LANGUAGE_CODE):
        return months_after(assigned_on, settings.EXTENSION_CAP_MONTHS, _("assigned"))


def co_opinion_deadline(assigned_on):
    with translation.override(settings.LANGUAGE_CODE):
        return months_after(assigned_on, settings.CO_OPINION_MONTHS, _("received"))


def rehandling_deadline(ordered_on):
    with translation.override(settings.LANGUAGE_CODE):
        return months_after(ordered_on, settings.REHANDLING_MONTHS, _("re-handling ordered"))


def return_deadline(assigned_on):
    with translation.override(settings.LANGUAGE_CODE):
        due = add_workdays(assigned_on, settings.RETURN_WORKDAYS)
        basis = _("assigned %(start)s + %(n)s working days = %(due)s") % {
            "start": assigned_on.isoformat(), "n": settings.RETURN_WORKDAYS, "due": due.isoformat()}
        return Deadline(due, basis)


def fixed_date(day, label):
    """A date set by a decision (an approved extension), moved to the next working day."""
    with translation.override(settings.LANGUAGE_CODE):
        due = next_workday(day)
        basis = _("%(label)s %(day)s") % {"label": label, "day": day.isoformat()}
        if due != day:
            basis += _(", %(reason)s, moved to %(due)s") % {
                "reason": day_info(day)[1] or _("weekend"), "due": due.isoformat()}
        return Deadline(due, basis)


def workdays_until(start, end):
    """Working days from `start` (excluded) to `end` (included); negative when `end` is past."""
    if end == start:
        return 0
    step = 1 if end > start else -1
    count, day = 0, start
    while day != end:
        day += dt.timedelta(days=step)
        if is_workday(day):
            count += step
    return count


def calendar_warning(today):
    """The coordinators' dashboard warning when this year, or a later year a deadline set today may
    fall in, has no calendar yet (its deadlines assume Monday to Friday); None when all is entered."""
    longest = max(settings.REPLY_MONTHS, settings.EXTENSION_CAP_MONTHS, settings.CO_OPINION_MONTHS,
                  settings.REHANDLING_MONTHS)
    # The longest period, plus the longest run of holidays a deadline can be moved across.
    horizon = add_months(today, longest) + dt.timedelta(days=15)
    missing = [str(y) for y in range(today.year, horizon.year + 1) if y not in known_years()]
    if not missing:
        return None
    return _("The holiday schedule of %(years)s has not been entered yet: deadlines there assume Monday to "
             "Friday.") % {"years": "、".join(missing)}
