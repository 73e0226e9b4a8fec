"""The Excel workbook and the Word draft, read back with openpyxl and python-docx."""
import datetime as dt
import io

import pytest
from docx import Document
from openpyxl import load_workbook

from reports import exports, queries
from reports.queries import Params
from tests.reports import data

D = dt.date


@pytest.fixture
def seed_report(people):
    """The seed's year (172 session items, 148/8/4/12, all on time) and its 44 community items."""
    depts, streets = data.departments(15), data.streets(11)
    session = ["solved"] * 148 + ["in_progress"] * 8 + ["planned"] * 4 + ["for_reference"] * 12
    community = ["solved"] * 29 + ["in_progress"] * 6 + ["planned"] * 4 + ["for_reference"] * 5
    data.write(people, [data.replied(o, department=depts[i % 15], category=people.category,
                                     ratings=[(D(2025, 5, 1), "satisfied", "satisfied")])
                        for i, o in enumerate(session)] +
               [data.replied(o, source="community", department=depts[i % 15], street=streets[i % 11])
                for i, o in enumerate(community)] +
               [data.replied("planned", year=2023, replied_on=D(2023, 5, 1)) for _ in range(3)])
    return queries.annual(None, Params(2025, D(2025, 9, 19), "session", (2022, 2024)))


def sheet_rows(ws):
    return [list(row) for row in ws.iter_rows(values_only=True)]


def test_it_writes_one_sheet_per_table_with_chinese_headers(seed_report):
    wb = load_workbook(io.BytesIO(exports.workbook(seed_report)))
    assert wb.sheetnames == ["说明", "总体情况", "办理结果", "满意度", "承办单位", "类别", "街镇", "来源", "月度办复",
                             "监督检查", "回头看"]
    for name in wb.sheetnames:
        assert wb[name].freeze_panes == "A2", name
        assert wb[name]["A1"].font.bold, name
    outcomes = wb["办理结果"]
    assert sheet_rows(outcomes)[0] == ["办理结果", "件数", "占已办复比例"]
    rows = {row[0]: row for row in sheet_rows(outcomes)[1:]}
    assert {label: (row[1], round(row[2] * 100, 1)) for label, row in rows.items()} == {
        "已经解决": (148, 86.0), "正在解决": (8, 4.7), "计划解决": (4, 2.3), "留作参考": (12, 7.0),
        "已经解决和正在解决": (156, 90.7)}
    assert outcomes["C2"].number_format == "0.0%"
    assert outcomes.column_dimensions["A"].width >= 18  # "已经解决和正在解决": nine wide characters


def test_it_puts_the_report_figures_in_the_workbook(seed_report):
    wb = load_workbook(io.BytesIO(exports.workbook(seed_report)))
    summary = {row[0]: row[1:] for row in sheet_rows(wb["总体情况"])}
    assert summary["指标"] == ["2025年", "2024年同期"]
    assert summary["建议总数"][0] == 172 and summary["按期办复"][0] == 172
    assert summary["按期办复率"][0] == 1.0
    assert summary["办理结果满意率"][0] == 1.0
    assert summary["按期办复率"][1] == "—"  # nothing replied the year before: no rate, not 0%
    departments = sheet_rows(wb["承办单位"])
    assert departments[0] == ["承办单位", "主办件数", "会办件数", "已办复", "按期办复",
                              "已经解决", "正在解决", "计划解决", "留作参考"]
    assert [row[0] for row in departments[1:]] == [d["department"] for d in seed_report["by_department"]]
    assert sum(row[1] for row in departments[1:]) == 172
    assert sum(row[5] for row in departments[1:]) == 148
    assert sheet_rows(wb["回头看"])[1][:3] == ["2022—2024", 3, 0]
    assert wb["说明"]["A3"].value == exports.statistics_paragraph(seed_report)


def test_it_writes_a_word_draft_with_the_paragraph_and_the_tables(seed_report):
    doc = Document(io.BytesIO(exports.document(seed_report)))
    texts = [p.text for p in doc.paragraphs]
    assert texts[0] == "2025年度区人大代表建议办理情况统计（大会期间）"
    paragraph = next(t for t in texts if t.startswith("截至"))
    assert paragraph == exports.statistics_paragraph(seed_report)
    for words in ("由区政府承办的 172 件区人大代表建议均在规定时间内办复", "“已经解决”的 148 件，占比 86.0%",
                  "“正在解决”的 8 件，占比 4.7%", "“计划解决”的 4 件，占比 2.3%", "“留作参考”的 12 件，占比 7.0%"):
        assert words in paragraph
    assert len(doc.tables) == len(exports.tables(seed_report))
    outcomes = doc.tables[1]
    cells = [[c.text for c in row.cells] for row in outcomes.rows]
    assert cells[0] == ["办理结果", "件数", "占已办复比例"]
    assert ["已经解决", "148", "86.0%"] in cells and ["计划解决", "4", "2.3%"] in cells
    departments = [[c.text for c in row.cells] for row in doc.tables[4].rows]
    assert sum(int(row[1]) for row in departments[1:]) == 172


def test_it_words_a_year_replied_late_in_part_and_leaves_out_an_empty_lookback(people):
    data.write(people, [data.replied("solved"), data.replied("planned", on_time=False)])
    text = exports.statistics_paragraph(queries.annual(None, Params(2025, D(2025, 9, 19), lookback=(2019, 2020))))
    assert ("由区政府承办的 2 件区人大代表建议均已办复，按期办复 1 件，按期办复率 50.0%。"
            "其中，办理结果为“已经解决”的 1 件，占比 50.0%") in text
    assert "回头看" not in text  # nothing planned or for reference in 2019–2020: no "0 件" sentence


def test_it_says_so_when_not_everything_is_replied(people):
    data.write(people, [data.replied("solved"), data.replied("planned", on_time=False), data.Item()])
    r = queries.annual(None, Params(2025, D(2025, 9, 19)))
    text = exports.statistics_paragraph(r)
    assert "由区政府承办的 3 件区人大代表建议已办复 2 件，其中按期办复 1 件，按期办复率 50.0%。" in text
    assert "已办复的 2 件中，办理结果为“已经解决”的 1 件，占比 50.0%" in text
    empty = queries.annual(None, Params(2019, D(2019, 9, 19)))
    assert exports.statistics_paragraph(empty) == "截至2019年9月19日，区政府尚无承办的区人大代表建议。"
    doc = Document(io.BytesIO(exports.document(empty)))  # an empty year still makes a document
    assert "（无）" in [p.text for p in doc.paragraphs]
