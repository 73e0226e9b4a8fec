"""The benchmark's hand-written SQL of every table of the annual report (`bench.floors.report_tables`,
PostgreSQL only) computes what the report computes, on the demo district, as of dates before, inside
and after the events that an as-of report must leave out; and the check comparing them notices a
single figure that differs."""
import copy
import datetime as dt
import io

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.utils import timezone

from bench import floors, measure
from reports import queries
from suggestions import workflow
from suggestions.models import Assignment, Suggestion


@pytest.fixture
def district(require_postgres, db):
    call_command("seed_demo", stdout=io.StringIO())
    office = get_user_model().objects.get(username="office")
    # A withdrawal dated inside the year: a report dated before it counts the item, one after it not.
    year = Suggestion.objects.order_by("-year").values_list("year", flat=True).first()
    item = Suggestion.objects.filter(year=year, state="replied").order_by("pk").first()
    workflow.withdraw(item, actor=office, reason="代表撤回", withdrawn_on=dt.date(year, 9, 30))
    return year


def tables(year, as_of):
    report = queries.annual(None, queries.Params(year, as_of))
    return report, floors.report_tables(year, as_of, queries.year_earlier(as_of))


def test_the_reports_tables_in_sql_are_the_reports(district):
    year = district
    # A department's assignment taken back later still counts for it on a day before (the demo has one).
    returned = Assignment.objects.filter(suggestion__year=year, state="returned").latest("returned_on")
    before_return = returned.returned_on - dt.timedelta(days=1)
    assert returned.assigned_on <= before_return
    for as_of in (dt.date(year, 6, 30), dt.date(year, 9, 29), before_return, dt.date(year, 12, 31),
                  timezone.localdate()):
        report, rows = tables(year, as_of)
        measure.check_report_tables(report, rows, year)  # raises on any figure that differs
    # What the comparison stands on: the tables are not empty, and the dates give different figures.
    assert report["total"] and report["by_department"] and report["previous_year"]["total"]
    assert tables(year, dt.date(year, 9, 29))[0]["total"] != tables(year, dt.date(year, 9, 30))[0]["total"]


def test_the_check_notices_one_figure_that_differs(district):
    report, rows = tables(district, timezone.localdate())
    for change in (lambda r: r["by_department"][0].update(on_time=r["by_department"][0]["on_time"] + 1),
                   lambda r: r["previous_year"]["outcomes"]["solved"].update(count=1 + r["previous_year"]
                                                                             ["outcomes"]["solved"]["count"]),
                   lambda r: r["by_month"].pop()):
        changed = copy.deepcopy(report)
        change(changed)
        with pytest.raises(AssertionError, match="disagree"):
            measure.check_report_tables(changed, rows, district)
