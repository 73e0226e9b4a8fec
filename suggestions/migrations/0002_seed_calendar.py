"""Seed the working-day calendar from the chinese-calendar package, for every year it knows."""
import datetime as dt

from django.db import migrations


def seed(apps, schema_editor):
    import chinese_calendar

    Day = apps.get_model("suggestions", "WorkCalendarDay")
    if Day.objects.exists():
        return
    first, last = 2015, max(y for y in range(2015, 2100) if _known(chinese_calendar, y))
    rows, day = [], dt.date(first, 1, 1)
    while day <= dt.date(last, 12, 31):
        on_holiday, name = chinese_calendar.get_holiday_detail(day)
        rows.append(Day(date=day, is_workday=not on_holiday, name=_zh(name) if on_holiday and name else ""))
        day += dt.timedelta(days=1)
    Day.objects.bulk_create(rows, batch_size=1000)


def _known(chinese_calendar, year):
    try:
        chinese_calendar.is_workday(dt.date(year, 6, 1))
        return True
    except NotImplementedError:
        return False


NAMES = {"New Year's Day": "元旦", "Spring Festival": "春节", "Tomb-sweeping Day": "清明节", "Labour Day": "劳动节",
         "Dragon Boat Festival": "端午节", "National Day": "国庆节", "Mid-autumn Festival": "中秋节",
         "Anti-Fascist 70th Day": "抗战胜利纪念日"}


def _zh(name):
    return NAMES.get(name, name)


class Migration(migrations.Migration):
    dependencies = [("suggestions", "0001_initial")]
    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
