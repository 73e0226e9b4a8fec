"""`load_calendar FILE [--dry-run]` or `load_calendar --from-package YEAR`: a year's working days.

Every November the State Council publishes the next year's holidays and make-up working days. Type
them into a small text file (UTF-8; one line per holiday or make-up day, or per run of them):

    # 国务院办公厅关于2027年部分节假日安排的通知
    2027-01-01,休,元旦
    2027-02-06~2027-02-13,休,春节
    2027-02-14,班,春节调休

- a date `YYYY-MM-DD`, or a run of dates `FIRST~LAST` (also `FIRST..LAST`);
- `休` (also `off`, `holiday`) for a day off, `班` (also `work`, `workday`) for a working day;
- an optional name, shown beside the deadline it moves;
- fields separated by commas (`,` or `，`) or tabs; blank lines and lines starting with `#` are skipped.

All dates must be in one year. Every day of that year not listed is a working day from Monday to
Friday and a day off on Saturday and Sunday. Loading writes the year in one transaction
and recomputes the open deadlines the changed days move (each gets an event on its timeline).
A file with mistakes writes nothing: each one is listed as `line N: …` and the exit status is 1.

`--from-package YEAR` takes the year from the `chinese-calendar` package instead, for a year a
newer version of the package knows.
"""
import calendar
import datetime as dt
import importlib
import re
import sys

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from suggestions.calendar_admin import calendar_changed
from suggestions.models import WorkCalendarDay

OFF = {"休", "off", "holiday"}
WORK = {"班", "work", "workday"}
SEPARATOR = re.compile(r"\s*[,，\t]\s*")
RUN = re.compile(r"\s*(?:~|～|\.\.)\s*")


class CalendarFileError(Exception):
    """The file's mistakes, one `line N: …` each."""


def parse(text):
    """(year, {date: (is_workday, name)}) of the days a schedule file lists."""
    days, errors, years = {}, [], set()
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip().lstrip("\ufeff")
        if not line or line.startswith("#"):
            continue
        fields = SEPARATOR.split(line, maxsplit=2)
        if len(fields) < 2:
            errors.append(f"line {number}: expected DATE,休|班[,NAME]")
            continue
        try:
            first, last = _run(fields[0])
        except ValueError as e:
            errors.append(f"line {number}: {e}")
            continue
        kind = fields[1].strip().lower()
        if kind not in OFF | WORK:
            errors.append(f"line {number}: {fields[1]!r} is neither 休 (off) nor 班 (work)")
            continue
        name = fields[2].strip() if len(fields) > 2 else ""
        if len(name) > WorkCalendarDay._meta.get_field("name").max_length:
            errors.append(f"line {number}: the name is too long")
            continue
        day = first
        while day <= last:
            if day in days:
                errors.append(f"line {number}: {day} is listed twice")
                break
            days[day] = (kind in WORK, name)
            years.add(day.year)
            day += dt.timedelta(days=1)
    if len(years) > 1:
        errors.append(f"the file lists days of several years ({', '.join(map(str, sorted(years)))}); load one "
                      "year at a time")
    if not days and not errors:
        errors.append("the file lists no day")
    if errors:
        raise CalendarFileError(errors)
    return years.pop(), days


def _run(text):
    parts = RUN.split(text.strip())
    if len(parts) > 2:
        raise ValueError(f"{text!r} is not a date or a run of dates")
    try:
        first, last = dt.date.fromisoformat(parts[0]), dt.date.fromisoformat(parts[-1])
    except ValueError:
        raise ValueError(f"{text!r} is not a date (YYYY-MM-DD) or a run of dates (FIRST~LAST)") from None
    if last < first:
        raise ValueError(f"{text!r} ends before it starts")
    if (last - first).days > 31:
        raise ValueError(f"{text!r} is longer than a month")
    return first, last


def year_from_file(year, listed):
    """Every day of `year`: as listed, else Monday to Friday working."""
    days = {}
    for month in range(1, 13):
        for d in range(1, calendar.monthrange(year, month)[1] + 1):
            day = dt.date(year, month, d)
            days[day] = listed.get(day, (day.weekday() < 5, ""))
    return days


def year_from_package(year):
    import chinese_calendar

    # The seed migration's names (春节, 国庆节 …), so that reloading a seeded year changes nothing.
    seed = importlib.import_module("suggestions.migrations.0002_seed_calendar")
    days = {}
    day = dt.date(year, 1, 1)
    try:
        while day.year == year:
            on_holiday, name = chinese_calendar.get_holiday_detail(day)
            days[day] = (not on_holiday, seed._zh(name) if on_holiday and name else "")
            day += dt.timedelta(days=1)
    except NotImplementedError:
        raise CommandError(f"the chinese-calendar package does not know {year}; load it from a file") from None
    return days


@transaction.atomic
def load_year(year, days):
    """Make the stored year what `days` says; return (changed dates, deadlines that moved)."""
    before = {d: (w, n) for d, w, n in WorkCalendarDay.objects.filter(date__year=year)
              .values_list("date", "is_workday", "name")}
    changed = sorted(d for d, value in days.items() if before.get(d) != value)
    for d in changed:  # one save each (a year is at most 366): each change is on the audit trail
        WorkCalendarDay.objects.update_or_create(date=d, defaults={"is_workday": days[d][0], "name": days[d][1]})
    return changed, calendar_changed(changed)


class Command(BaseCommand):
    help = "Load a year's holidays and make-up working days from a schedule file or the chinese-calendar package."

    def add_arguments(self, parser):
        parser.add_argument("file", nargs="?", help="the year's schedule (format: see this command's module)")
        parser.add_argument("--from-package", type=int, metavar="YEAR", help="take YEAR from chinese-calendar")
        parser.add_argument("--dry-run", action="store_true", help="check and show what would change; write nothing")

    def handle(self, *args, file=None, from_package=None, dry_run=False, **options):
        if bool(file) == bool(from_package):
            raise CommandError("give either a schedule FILE or --from-package YEAR")
        if from_package:
            year, days = from_package, year_from_package(from_package)
        else:
            try:
                with open(file, encoding="utf-8-sig") as f:
                    year, listed = parse(f.read())
            except (OSError, UnicodeDecodeError) as e:
                raise CommandError(f"cannot read {file}: {e}") from None
            except CalendarFileError as e:
                for line in e.args[0]:
                    self.stderr.write(line)
                sys.exit(1)
            days = year_from_file(year, listed)
        off = sum(1 for w, _ in days.values() if not w)
        if dry_run:
            before = dict(WorkCalendarDay.objects.filter(date__year=year).values_list("date", "is_workday"))
            changed = sum(1 for d, (w, _) in days.items() if before.get(d) != w)
            self.stdout.write(f"{year}: {len(days)} days, {off} days off; {changed} working/off days would change "
                              "(dry run: nothing written)")
            return
        changed, moved = load_year(year, days)
        self.stdout.write(f"{year}: {len(days)} days, {off} days off; {len(changed)} days changed; "
                          f"{len(moved)} open deadlines moved")
        for a in moved:
            self.stdout.write(f"  {a.suggestion.number} {a.department.name}: {a.due_date} ({a.due_basis})")
