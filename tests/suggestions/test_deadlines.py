"""Deadlines on China's working-day calendar (DOMAIN.md, "Deadlines").

The expected days come from the State Council's schedules, checked against the `chinese-calendar`
package itself (`package_next_workday`), not from the code under test.
"""
import datetime as dt

import chinese_calendar
import pytest
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext

from suggestions import deadlines
from suggestions.models import WorkCalendarDay
from tests.base import PASSWORD

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fresh_calendar():
    deadlines.clear_cache()
    yield
    deadlines.clear_cache()


def package_next_workday(day):
    while not chinese_calendar.is_workday(day):
        day += dt.timedelta(days=1)
    return day


def first_unknown_year():
    return max(deadlines.known_years()) + 1


def test_it_moves_a_deadline_out_of_the_spring_festival():
    raw = dt.date(2026, 2, 17)  # 2025-11-17 + 3 months: the third day of the 2026 Spring Festival
    assert chinese_calendar.get_holiday_detail(raw) == (True, "Spring Festival")
    d = deadlines.reply_deadline(dt.date(2025, 11, 17))
    assert d.date == package_next_workday(raw) == dt.date(2026, 2, 24)
    assert d.basis.startswith("交办 2025-11-17 + 3 个月 = 2026-02-17")
    assert "春节" in d.basis and d.basis.endswith("2026-02-24")


def test_it_puts_a_2026_national_day_deadline_on_the_first_working_day_after(people):
    s = people.assigned("2026001", year=2026, on=dt.date(2026, 7, 1))
    a = s.assignments.get()
    assert all(not chinese_calendar.is_workday(dt.date(2026, 10, d)) for d in range(1, 8))
    assert a.due_date == package_next_workday(dt.date(2026, 10, 1)) == dt.date(2026, 10, 8)
    assert a.due_base == dt.date(2026, 7, 1) and a.due_months == 3
    assert "国庆节" in a.due_basis and "2026-10-08" in a.due_basis


def test_it_works_out_the_handbooks_2025_national_day_example():
    d = deadlines.reply_deadline(dt.date(2025, 7, 1))
    assert d.date == package_next_workday(dt.date(2025, 10, 1)) == dt.date(2025, 10, 9)
    assert d.basis.startswith("交办 2025-07-01 + 3 个月 = 2025-10-01") and "国庆节" in d.basis


def test_it_keeps_a_deadline_on_a_make_up_working_sunday():
    sunday = dt.date(2025, 4, 27)
    assert sunday.weekday() == 6 and chinese_calendar.is_workday(sunday)
    d = deadlines.reply_deadline(dt.date(2025, 1, 27))
    assert d.date == sunday
    assert d.basis == "交办 2025-01-27 + 3 个月 = 2025-04-27"  # nothing moved, nothing to explain


def test_it_counts_a_make_up_sunday_among_the_working_days():
    # Thursday 2025-04-24 + 7 working days: Fri 25, Sun 27 (make-up), 28, 29, 30, then Labour Day
    # (1–5 May) off, then 6 and 7 May.
    day, left = dt.date(2025, 4, 24), 7
    while left:
        day += dt.timedelta(days=1)
        left -= chinese_calendar.is_workday(day)
    expected = day
    assert deadlines.return_deadline(dt.date(2025, 4, 24)).date == expected == dt.date(2025, 5, 7)
    assert deadlines.workdays_until(dt.date(2025, 4, 24), dt.date(2025, 5, 7)) == 7
    assert deadlines.workdays_until(dt.date(2025, 5, 7), dt.date(2025, 4, 24)) == -7


def test_it_ends_a_period_from_a_months_last_day_on_the_shorter_months_last_day():
    # 2025-11-30 + 3 months: February 2026 has no 30th, so its last day, 28 February, a Saturday
    # that is a make-up working day of the 2026 Spring Festival: the deadline stays there.
    end = dt.date(2026, 2, 28)
    assert end.weekday() == 5 and chinese_calendar.is_workday(end)
    d = deadlines.reply_deadline(dt.date(2025, 11, 30))
    assert d.date == end
    assert d.basis == "交办 2025-11-30 + 3 个月 = 2026-02-28"


def test_it_moves_a_month_end_deadline_off_a_weekend():
    raw = dt.date(2025, 11, 30)  # 2025-08-31 + 3 months: a Sunday
    d = deadlines.reply_deadline(dt.date(2025, 8, 31))
    assert d.date == package_next_workday(raw) == dt.date(2025, 12, 1)
    assert "周末" in d.basis


def test_it_falls_back_to_monday_to_friday_in_a_year_the_calendar_does_not_know():
    year = first_unknown_year()
    assert not WorkCalendarDay.objects.filter(date__year=year).exists()
    with pytest.raises(NotImplementedError):
        chinese_calendar.is_workday(dt.date(year, 6, 1))
    raw = dt.date(year, 2, 28)
    expected = raw
    while expected.weekday() >= 5:
        expected += dt.timedelta(days=1)
    d = deadlines.reply_deadline(dt.date(year - 1, 11, 30))
    assert d.date == expected
    with translation.override("zh-hans"):
        caveat = gettext(" (holidays of %(year)s not yet entered: Monday to Friday assumed)") % {"year": year}
    assert d.basis.endswith(caveat) and str(year) in caveat


def test_it_warns_when_a_deadline_may_fall_in_a_year_not_entered():
    year = first_unknown_year()
    with translation.override("en"):
        late = deadlines.calendar_warning(dt.date(year - 1, 12, 1))
        assert late is not None and str(year) in late and str(year - 1) not in late
        assert deadlines.calendar_warning(dt.date(year - 1, 3, 1)) is None  # six months on is still known
        assert str(year) in deadlines.calendar_warning(dt.date(year, 1, 5))
    WorkCalendarDay.objects.create(date=dt.date(year, 1, 1), is_workday=False, name="元旦")
    deadlines.clear_cache()
    assert deadlines.calendar_warning(dt.date(year - 1, 12, 1)) is None


def test_it_shows_the_warning_on_the_coordinators_dashboard_only(client, people):
    from django.utils import timezone

    this_year = timezone.localdate().year
    WorkCalendarDay.objects.filter(date__year=this_year).delete()
    deadlines.clear_cache()
    assert client.login(username="office", password=PASSWORD)
    r = client.get(reverse("suggestions:dashboard"))
    assert r.context["calendar_warning"] and str(this_year) in r.context["calendar_warning"]
    assert r.context["calendar_warning"] in r.content.decode()
    assert client.login(username="handler", password=PASSWORD)
    assert client.get(reverse("suggestions:dashboard")).context["calendar_warning"] is None
