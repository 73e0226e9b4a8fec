"""`manage.py report` (CONTRACT.md "Management commands" and "Report JSON")."""
import datetime as dt
import io
import json

import pytest
from django.core.management import CommandError, call_command
from docx import Document
from openpyxl import load_workbook

from tests.reports import data

D = dt.date
TOP_LEVEL = {"year", "as_of", "source", "total", "replied", "replied_on_time", "on_time_rate", "outcomes",
             "solved_or_in_progress", "satisfaction", "by_department", "by_category", "by_street", "by_source",
             "key_suggestions", "public", "disclosure_rate"}
RATING_KEYS = {"satisfied", "basically_satisfied", "dissatisfied", "no_opinion", "satisfied_rate",
               "satisfied_or_basic_rate"}


def run(capsys, *args):
    call_command("report", *args)
    return json.loads(capsys.readouterr().out)


def test_it_prints_the_contracts_json(people, capsys):
    data.write(people, [data.replied("solved", category=people.category, street=people.street,
                                     ratings=[(D(2025, 5, 1), "satisfied", "basically_satisfied")]),
                        data.replied("planned", source="community", co=[people.dept2])])
    r = run(capsys, "--year", "2025", "--as-of", "2025-09-19")
    assert TOP_LEVEL <= set(r) and "lookback" not in r
    assert (r["year"], r["as_of"], r["source"]) == (2025, "2025-09-19", "all")
    assert set(r["outcomes"]) == {"solved", "in_progress", "planned", "for_reference"}
    assert all(set(v) == {"count", "percent"} for v in r["outcomes"].values())
    assert set(r["solved_or_in_progress"]) == {"count", "percent"}
    assert set(r["satisfaction"]) == {"result", "attitude"}
    assert set(r["satisfaction"]["result"]) == set(r["satisfaction"]["attitude"]) == RATING_KEYS
    dept_keys = {"department", "lead", "co", "replied", "on_time", "solved", "in_progress", "planned", "for_reference"}
    assert r["by_department"] and all(dept_keys <= set(row) for row in r["by_department"])
    assert r["by_category"] == [{"category": people.category.name, "total": 1, "solved": 1, "replied": 1,
                                 "solved_percent": 100.0, "solved_or_in_progress": 1}]
    assert {"street", "total", "solved"} <= set(r["by_street"][0])
    assert [(s["source"], s["total"], s["replied"], s["solved_or_in_progress"]) for s in r["by_source"]] == [
        ("session", 1, 1, 1), ("community", 1, 1, 0)]
    assert (r["outcomes"]["solved"], r["on_time_rate"]) == ({"count": 1, "percent": 50.0}, 100.0)
    assert r["satisfaction"]["attitude"]["satisfied_or_basic_rate"] == 100.0
    assert TOP_LEVEL - {"by_department", "by_category", "by_street", "by_source"} <= set(r["previous_year"])


def test_it_gives_null_for_a_rate_over_nothing(people, capsys):
    r = run(capsys, "--year", "2025", "--as-of", "2025-09-19", "--lookback", "2022-2024")
    assert (r["total"], r["on_time_rate"], r["disclosure_rate"], r["outcomes"]["solved"]["percent"]) == (
        0, None, None, None)
    assert r["satisfaction"]["result"]["satisfied_rate"] is None
    assert {"years", "candidates", "converted_to_solved"} <= set(r["lookback"])
    assert r["lookback"]["years"] == [2022, 2024]


def test_it_limits_every_figure_to_the_source(people, capsys):
    data.write(people, [data.replied("solved", source="community"), data.replied("planned", source="session")])
    r = run(capsys, "--year", "2025", "--as-of", "2025-09-19", "--source", "community")
    assert (r["source"], r["total"], r["outcomes"]["solved"]["count"], r["outcomes"]["planned"]["count"]) == (
        "community", 1, 1, 0)
    assert [row["source"] for row in r["by_source"]] == ["community"]


def test_it_writes_excel_and_word_files(people, tmp_path, capsys):
    data.write(people, [data.replied("solved") for _ in range(3)])
    call_command("report", "--year", "2025", "--as-of", "2025-09-19", "--format", "xlsx", "-o", tmp_path / "r.xlsx")
    call_command("report", "--year", "2025", "--as-of", "2025-09-19", "--format", "docx", "-o", tmp_path / "r.docx")
    call_command("report", "--year", "2025", "--as-of", "2025-09-19", "-o", tmp_path / "r.json")
    assert capsys.readouterr().out == ""
    wb = load_workbook(tmp_path / "r.xlsx")
    assert [row[1] for row in wb["办理结果"].iter_rows(min_row=2, max_row=2, values_only=True)] == [3]
    doc = Document(io.BytesIO((tmp_path / "r.docx").read_bytes()))
    assert any("由区政府承办的 3 件区人大代表建议均在规定时间内办复" in p.text for p in doc.paragraphs)
    assert json.loads((tmp_path / "r.json").read_text(encoding="utf-8"))["total"] == 3


@pytest.mark.parametrize("bad", [["--source", "elsewhere"], ["--as-of", "19/09/2025"], ["--lookback", "2024"],
                                 ["--format", "pdf"]])
def test_it_refuses_bad_arguments(db, bad):
    with pytest.raises(CommandError):
        call_command("report", "--year", "2025", *bad)
