"""A 10,000-row assignment list imports within the suite's time budget, through the workflow."""
import datetime as dt
import time

from openpyxl import Workbook

from suggestions.models import Assignment, Event, Suggestion
from suggestions.spreadsheets import HEADERS, import_file

ROWS = 10_000
BUDGET_SECONDS = 240


def test_it_imports_10000_rows_in_budget(people, tmp_path):
    departments = [people.dept.name, people.dept2.name, people.dept3.name]
    wb = Workbook(write_only=True)
    ws = wb.create_sheet()
    ws.append(HEADERS)
    for i in range(1, ROWS + 1):
        cells = {"年度": 2024, "建议号": f"2024{i:05d}", "标题": f"关于第{i}件民生实事的建议", "领衔代表": f"代表{i % 300}",
                 "主办单位": departments[i % 3], "交办日期": dt.date(2024, 3, 1) + dt.timedelta(days=i % 60),
                 "类别": people.category.name, "来源": "闭会期间"}
        ws.append([cells.get(h) for h in HEADERS])
    path = tmp_path / "big.xlsx"
    wb.save(path)

    started = time.perf_counter()
    result = import_file(str(path))
    seconds = time.perf_counter() - started

    print(f"\n10,000-row import: {seconds:.1f} s ({1000 * seconds / ROWS:.1f} ms a row)")
    assert result.ok and len(result.created) == ROWS
    assert Suggestion.objects.filter(year=2024, state="assigned").count() == ROWS
    assert Assignment.objects.filter(suggestion__year=2024).count() == ROWS
    assert Event.objects.filter(kind="assigned", suggestion__year=2024).count() == ROWS
    assert seconds < BUDGET_SECONDS
