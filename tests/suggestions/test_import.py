"""Importing the template of CONTRACT.md: through the workflow, all or nothing, every error named."""
import datetime as dt
import io
import zipfile

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone, translation
from openpyxl import Workbook

from suggestions import deadlines
from suggestions.models import (
    Assignment,
    Deputy,
    Event,
    Feedback,
    OutcomeRecord,
    Reply,
    Suggestion,
)
from suggestions.spreadsheets import COMPUTED, HEADERS, import_file

YEAR = 2024
ASSIGNED = dt.date(2024, 3, 4)
REPLIED = dt.date(2024, 4, 15)


def row(**cells):
    """A valid new row (assignment only) with `cells` changed; None empties a cell."""
    base = {"年度": YEAR, "建议号": "2024001", "标题": "关于宝山路沿线整体绿化改造的建议", "领衔代表": "王代表",
            "主办单位": "区建设管理委", "交办日期": ASSIGNED}
    base.update(cells)
    return base


def write_xlsx(path, rows, headers=None):
    wb = Workbook()
    ws = wb.active
    headers = headers or HEADERS
    ws.append(headers)
    for r in rows:
        ws.append([r.get(h) for h in headers])
    wb.save(path)
    return str(path)


def snapshot():
    """Every table an import writes to, counted: equal snapshots mean nothing was written."""
    return {m.__name__: m.objects.count() for m in (Suggestion, Assignment, Reply, OutcomeRecord, Feedback, Event,
                                                    Deputy)}


def texts(result):
    with translation.override("en"):
        return [i.text() for i in result.issues]


# --- what an import creates ---------------------------------------------------------------------

def test_it_creates_a_replied_suggestion_through_the_workflow(people, tmp_path):
    path = write_xlsx(tmp_path / "a.xlsx", [row(
        内容="建议整体改造。", 来源="集中联系社区", 附议代表="李代表、张代表", 类别="交通出行", 街镇="南京西路街道",
        会办单位="区公安分局", 重点建议="是", 督办领导="陈副区长", 办理结果="B", 答复日期="2024/4/15",
        结果满意度="满意", 态度满意度="基本满意", 是否公开="否")])

    result = import_file(path)

    assert result.ok, texts(result)
    s = Suggestion.objects.get(year=YEAR, number="2024001")
    assert (s.state, s.outcome, s.source, s.is_key, s.is_public) == ("replied", "in_progress", "community", True,
                                                                       False)
    assert s.first_replied_on == REPLIED and s.replied_on_time is True
    assert sorted(d.name for d in s.co_deputies.all()) == ["张代表", "李代表"]
    lead = s.assignments.get(role="lead")
    assert (lead.department, lead.state, lead.outcome) == (people.dept, "replied", "in_progress")
    assert lead.due_date == deadlines.reply_deadline(ASSIGNED).date
    co = s.assignments.get(role="co")
    assert co.department == people.dept2 and co.state == "opinion_sent"
    reply = lead.replies.get()
    assert (reply.state, reply.reply_date, reply.on_time, reply.completion_date) == ("sent", REPLIED, True, None)
    assert list(s.outcome_records.values_list("outcome", "effective_on")) == [("in_progress", REPLIED)]
    fb = s.feedback.get()
    assert (fb.result, fb.attitude, fb.recorded_on) == ("satisfied", "basically_satisfied", REPLIED)
    kinds = set(s.events.values_list("kind", flat=True))
    assert {"registered", "assigned", "accepted", "reply_drafted", "reply_signed", "feedback", "imported"} <= kinds


def test_it_puts_the_given_deadline_in_force(people, tmp_path):
    due = dt.date(2024, 5, 6)
    path = write_xlsx(tmp_path / "a.xlsx", [row(办复期限=due, 办理结果="已经解决", 答复日期=dt.date(2024, 5, 20))])

    assert import_file(path).ok
    lead = Assignment.objects.get(role="lead")
    assert lead.due_date == due
    # Replied after the deadline that was in force: late, whatever the computed rule would say.
    assert lead.replies.get().on_time is False
    assert Suggestion.objects.get().replied_on_time is False
    assert Event.objects.filter(kind="deadline_changed", data__after=due.isoformat()).exists()


def test_it_leaves_an_assignment_list_pending_and_tells_the_departments(people, tmp_path,
                                                                          django_capture_on_commit_callbacks):
    path = write_xlsx(tmp_path / "a.xlsx", [row(), row(建议号="2024002", 主办单位="区公安分局")])

    with django_capture_on_commit_callbacks(execute=True):
        result = import_file(path)

    assert result.ok and len(result.created) == 2
    assert set(Assignment.objects.values_list("state", flat=True)) == {"pending"}
    assert people.handler.notifications.count() == 1
    assert people.handler2.notifications.count() == 1


def test_it_sends_no_notifications_for_history(people, tmp_path, django_capture_on_commit_callbacks):
    path = write_xlsx(tmp_path / "a.xlsx", [row(办理结果="已经解决", 答复日期=REPLIED)])

    with django_capture_on_commit_callbacks(execute=True):
        assert import_file(path).ok

    assert not people.handler.notifications.exists() and not people.office.notifications.exists()


def test_it_reads_every_date_form_and_alias(people, tmp_path):
    rows = [row(建议号="2024001", 交办日期="2024-03-04", 办理结果="解决采纳", 答复日期="2024年4月15日"),
            row(建议号="2024002", 交办日期="2024/3/4", 办理结果="C", 答复日期=45397),  # Excel serial: 2024-04-15
            row(建议号=2024003, 交办日期=ASSIGNED, 办理结果="列入计划拟解决", 答复日期=REPLIED)]
    path = write_xlsx(tmp_path / "a.xlsx", rows)

    result = import_file(path)

    assert result.ok, texts(result)
    got = dict(Suggestion.objects.values_list("number", "outcome"))
    assert got == {"2024001": "solved", "2024002": "planned", "2024003": "planned"}
    assert set(Suggestion.objects.values_list("first_replied_on", flat=True)) == {REPLIED}
    assert set(Suggestion.objects.values_list("assigned_on", flat=True)) == {ASSIGNED}


def test_it_matches_headers_in_any_order_and_ignores_the_computed_columns(people, tmp_path):
    headers = ["交办日期", "主办单位", "状态", "领衔代表", "标题", "建议号", "年度", "最新进展", "是否按期"]
    data = row()
    data.update({"状态": "whatever", "最新进展": "ignored", "是否按期": "是"})
    path = write_xlsx(tmp_path / "a.xlsx", [data], headers=headers)

    result = import_file(path)

    assert result.ok, texts(result)
    assert Suggestion.objects.get().title == data["标题"]


# --- re-import ------------------------------------------------------------------------------------

def test_it_changes_nothing_when_the_same_file_comes_twice(people, tmp_path):
    path = write_xlsx(tmp_path / "a.xlsx", [
        row(附议代表="李代表", 办理结果="已经解决", 答复日期=REPLIED, 结果满意度="不满意", 态度满意度="满意",
            会办单位="区公安分局", 办复期限=dt.date(2024, 6, 3)),
        row(建议号="2024002", 办复期限=dt.date(2030, 1, 7))])
    assert import_file(path).ok
    before = snapshot()
    versions = list(Suggestion.objects.order_by("pk").values_list("version", flat=True))

    again = import_file(path)

    assert again.ok and (again.created, again.updated, again.unchanged) == ([], [], 2)
    assert snapshot() == before
    assert list(Suggestion.objects.order_by("pk").values_list("version", flat=True)) == versions


def test_it_updates_details_through_the_workflow(people, tmp_path):
    assert import_file(write_xlsx(tmp_path / "a.xlsx", [row(类别="交通出行")])).ok
    s = Suggestion.objects.get()
    events = s.events.count()

    result = import_file(write_xlsx(tmp_path / "b.xlsx", [row(标题="关于宝山路绿化改造的建议", 附议代表="李代表",
                                                              会办单位="区公安分局")]))

    assert result.ok, texts(result)
    assert result.updated[0]["changes"] == ["附议代表", "标题", "会办单位"]
    s.refresh_from_db()
    assert s.title == "关于宝山路绿化改造的建议" and s.category == people.category  # an empty cell keeps
    assert s.assignments.get(role="co").department == people.dept2
    new = list(s.events.order_by("pk").values_list("kind", flat=True)[events:])
    assert new == ["updated", "assigned", "imported"]


def test_it_records_a_changed_outcome_dated_by_its_update_date(people, tmp_path):
    first = row(办理结果="计划解决", 答复日期=REPLIED)
    assert import_file(write_xlsx(tmp_path / "a.xlsx", [first])).ok
    changed_on = dt.date(2024, 9, 30)

    result = import_file(write_xlsx(tmp_path / "b.xlsx", [{**first, "办理结果": "已经解决",
                                                           "结果更新日期": changed_on}]))

    assert result.ok, texts(result)
    s = Suggestion.objects.get()
    assert s.outcome == "solved"
    assert list(s.outcome_records.values_list("outcome", "effective_on")) == [("planned", REPLIED),
                                                                              ("solved", changed_on)]
    assert s.events.filter(kind="outcome_changed", data__before="planned", data__after="solved").exists()
    assert Reply.objects.count() == 1  # a change of outcome is not a new reply


def test_it_records_the_reply_of_an_item_imported_earlier_as_an_assignment(people, tmp_path):
    assert import_file(write_xlsx(tmp_path / "a.xlsx", [row()])).ok

    result = import_file(write_xlsx(tmp_path / "b.xlsx", [row(办理结果="留作参考", 答复日期=REPLIED)]))

    assert result.ok, texts(result)
    s = Suggestion.objects.get()
    assert (s.state, s.outcome, s.first_replied_on) == ("replied", "for_reference", REPLIED)


def test_it_refuses_a_changed_outcome_without_its_date(people, tmp_path):
    first = row(办理结果="计划解决", 答复日期=REPLIED)
    assert import_file(write_xlsx(tmp_path / "a.xlsx", [first])).ok
    before = snapshot()

    result = import_file(write_xlsx(tmp_path / "b.xlsx", [{**first, "办理结果": "已经解决"}]))

    assert texts(result) == ["row 2, column 结果更新日期: Required because 办理结果 changes from “计划解决” to "
                             "“已经解决”."]
    assert snapshot() == before


def test_it_refuses_to_move_a_recorded_assignment_date(people, tmp_path):
    assert import_file(write_xlsx(tmp_path / "a.xlsx", [row()])).ok
    before = snapshot()

    result = import_file(write_xlsx(tmp_path / "b.xlsx", [row(交办日期=dt.date(2024, 3, 5))]))

    assert texts(result) == [f"row 2, column 交办日期: Differs from the recorded assignment date {ASSIGNED}; an "
                             "import does not move an assignment."]
    assert snapshot() == before


# --- bad input: a clear message and nothing written -------------------------------------------------

@pytest.fixture
def existing(people):
    """One suggestion already in the database, so that "nothing changed" means something."""
    return people.replied("2024900", year=YEAR)


def refused(path, expected, **kwargs):
    before = snapshot()
    result = import_file(str(path), **kwargs)
    assert texts(result) == expected
    assert snapshot() == before
    return result


NOT_XLSX = ["This is not an Excel workbook (.xlsx)."]
DAMAGED = ["The file is damaged: it cannot be read as an Excel workbook."]


def test_it_refuses_a_file_that_is_not_a_workbook_whatever_its_name(existing, tmp_path):
    text = tmp_path / "list.xlsx"
    text.write_text("年度,建议号,标题\n2024,1,x\n", encoding="utf-8")
    refused(text, NOT_XLSX)
    other_zip = tmp_path / "letter.xlsx"
    with zipfile.ZipFile(other_zip, "w") as z:
        z.writestr("[Content_Types].xml", "<Types/>")
        z.writestr("word/document.xml", "<document/>")
    refused(other_zip, NOT_XLSX)


def _ole_file(path, streams):
    """A compound-file header followed by UTF-16 directory names, as Office writes them."""
    body = b"".join(name.encode("utf-16-le") + b"\0\0" for name in streams)
    path.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 504 + body)
    return path


def test_it_refuses_an_encrypted_workbook(existing, tmp_path):
    path = _ole_file(tmp_path / "secret.xlsx", ["EncryptionInfo", "EncryptedPackage"])
    refused(path, ["The file is protected by a password: save it without one and upload it again."])


def test_it_refuses_an_old_xls_workbook(existing, tmp_path):
    path = _ole_file(tmp_path / "old.xls", ["Workbook", "SummaryInformation"])
    refused(path, ["This is an Excel 97-2003 (.xls) file: save it as an Excel workbook (.xlsx) and upload it again."])


def test_it_refuses_a_corrupt_workbook(existing, tmp_path):
    good = write_xlsx(tmp_path / "good.xlsx", [row()])
    data = open(good, "rb").read()
    truncated = tmp_path / "truncated.xlsx"
    truncated.write_bytes(data[: len(data) // 2])
    refused(truncated, DAMAGED)
    # A valid zip whose sheet is not XML.
    broken = tmp_path / "broken.xlsx"
    with zipfile.ZipFile(good) as src, zipfile.ZipFile(broken, "w") as dst:
        for item in src.infolist():
            dst.writestr(item, b"<<not xml" if item.filename.startswith("xl/worksheets/") else src.read(item))
    refused(broken, DAMAGED)


def test_it_refuses_a_file_too_large(existing, tmp_path, settings):
    path = write_xlsx(tmp_path / "a.xlsx", [row()])
    settings.IMPORT_MAX_BYTES = 1024
    size_kb = round((tmp_path / "a.xlsx").stat().st_size / 1024)
    refused(path, [f"The file is {size_kb} KB; the limit is 1 KB."])


def test_it_refuses_too_many_rows(existing, tmp_path, settings):
    settings.IMPORT_MAX_ROWS = 3
    path = write_xlsx(tmp_path / "a.xlsx", [row(建议号=f"2024{i:03d}") for i in range(1, 5)])
    refused(path, ["The file has more than 3 rows; split it into smaller files."])


def test_it_names_missing_extra_and_misspelled_headers(existing, tmp_path):
    headers = [h for h in HEADERS if h != "标题"] + ["备注"]
    headers[headers.index("建议号")] = "建议编号"
    path = write_xlsx(tmp_path / "a.xlsx", [row()], headers=headers)
    refused(path, ["row 1, column 建议号: This required column is missing.",
                   "row 1, column 标题: This required column is missing.",
                   "row 1, column 建议编号: Unknown column; did you mean “建议号”?",
                   "row 1, column 备注: Unknown column."])


def test_it_names_every_empty_required_cell(existing, tmp_path):
    path = write_xlsx(tmp_path / "a.xlsx", [row(标题=None), row(建议号="2024002", 领衔代表="  ", 主办单位=None,
                                                                交办日期=None)])
    refused(path, ["row 2, column 标题: required", "row 3, column 领衔代表: required",
                   "row 3, column 主办单位: required", "row 3, column 交办日期: required"])


def test_it_names_unknown_departments_categories_and_streets(existing, tmp_path):
    path = write_xlsx(tmp_path / "a.xlsx", [row(主办单位="区建设管理委、区公安局", 会办单位="区财政局", 类别="交通",
                                                街镇="南京路街道")])
    refused(path, ["row 2, column 类别: Unknown category “交通”; did you mean “交通出行”?",
                   "row 2, column 街镇: Unknown street or town “南京路街道”; did you mean “南京西路街道”?",
                   "row 2, column 主办单位: Unknown department “区公安局”; did you mean “区公安分局”?",
                   "row 2, column 会办单位: Unknown department “区财政局”."])


def test_it_refuses_unparseable_and_future_dates(existing, tmp_path):
    tomorrow = timezone.localdate() + dt.timedelta(days=1)
    path = write_xlsx(tmp_path / "a.xlsx", [row(交办日期="3月4日"), row(建议号="2024002", 交办日期="2024-02-30"),
                                            row(建议号="2024003", 交办日期=tomorrow)])
    refused(path, ["row 2, column 交办日期: “3月4日” is not a date: write 2025-03-15, 2025/3/15 or 2025年3月15日.",
                   "row 3, column 交办日期: “2024-02-30” is not a real date.",
                   f"row 4, column 交办日期: {tomorrow.isoformat()} lies in the future."])


def test_it_refuses_duplicate_numbers_within_the_file(existing, tmp_path):
    path = write_xlsx(tmp_path / "a.xlsx", [row(), row(标题="另一件"), row(年度=2023)])
    refused(path, ["row 3, column 建议号: Number 2024001 of 2024 is already in row 2."])


def test_it_refuses_a_formula_where_a_value_belongs(existing, tmp_path):
    path = write_xlsx(tmp_path / "a.xlsx", [row(交办日期="=TODAY()", 标题='="关于"&"绿化"')])
    refused(path, ["row 2, column 标题: A formula where a value belongs: enter the value itself.",
                   "row 2, column 交办日期: A formula where a value belongs: enter the value itself."])


def test_it_refuses_an_outcome_without_a_reply_date(existing, tmp_path):
    path = write_xlsx(tmp_path / "a.xlsx", [row(办理结果="已经解决"), row(建议号="2024002", 答复日期=REPLIED),
                                            row(建议号="2024003", 结果满意度="满意")])
    refused(path, ["row 2, column 答复日期: Required when 办理结果 is given.",
                   "row 3, column 办理结果: Required when 答复日期 is given.",
                   "row 4, column 结果满意度: A rating needs a reply: fill in 办理结果 and 答复日期."])


def test_it_refuses_a_reply_before_its_assignment(existing, tmp_path):
    path = write_xlsx(tmp_path / "a.xlsx", [row(办理结果="已经解决", 答复日期=dt.date(2024, 3, 1))])
    refused(path, ["row 2, column 答复日期: The reply (2024-03-01) cannot be dated before the assignment "
                   "(2024-03-04)."])


def test_it_refuses_unknown_labels(existing, tmp_path):
    path = write_xlsx(tmp_path / "a.xlsx", [row(办理结果="已办结", 答复日期=REPLIED, 重点建议="maybe")])
    result = refused(path, ["row 2, column 重点建议: “maybe”: write 是 or 否.",
                            "row 2, column 办理结果: Unknown value “已办结”; use one of: 已经解决、正在解决、计划解决、"
                            "留作参考、解决采纳、已解决、解决或采纳、基本解决、A、B、列入计划拟解决、C、D."])
    assert len(result.issues) == 2


def test_it_reports_every_error_of_a_long_file_not_just_the_first(existing, tmp_path):
    rows = [row(建议号=f"2024{i:03d}") for i in range(1, 201)]
    rows[11]["主办单位"] = "区建委"
    rows[99]["交办日期"] = "2024-13-01"
    rows[150]["标题"] = None
    path = write_xlsx(tmp_path / "a.xlsx", rows)
    result = refused(path, ["row 13, column 主办单位: Unknown department “区建委”; did you mean “区建设管理委”?",
                            "row 101, column 交办日期: “2024-13-01” is not a real date.",
                            "row 152, column 标题: required"])
    assert result.total_rows == 200


def test_it_rolls_back_every_row_when_the_workflow_refuses_one(people, tmp_path):
    withdrawn = people.suggestion("2024005", year=YEAR)
    from suggestions import workflow

    workflow.withdraw(withdrawn, actor=people.office, reason="代表撤回")
    before = snapshot()
    rows = [row(建议号=f"2024{i:03d}") for i in range(1, 5)] + [row(建议号="2024005", 标题="改个标题")]

    with translation.override("en"):
        result = import_file(write_xlsx(tmp_path / "a.xlsx", rows))

    assert [(i.row, i.column) for i in result.issues] == [(6, "标题")]
    assert "withdrawn" in texts(result)[0].lower()
    assert snapshot() == before


def test_a_dry_run_writes_nothing_and_tells_what_it_would_do(existing, tmp_path):
    path = write_xlsx(tmp_path / "a.xlsx", [row(), row(建议号="2024002", 办理结果="A", 答复日期=REPLIED)])
    before = snapshot()

    result = import_file(path, dry_run=True)

    assert result.ok and [r["number"] for r in result.created] == ["2024001", "2024002"]
    assert snapshot() == before


# --- the command ----------------------------------------------------------------------------------

def test_the_command_exits_1_with_one_line_per_error_and_writes_nothing(existing, tmp_path):
    path = write_xlsx(tmp_path / "a.xlsx", [row(标题=None), row(建议号="2024002", 主办单位="区建委")])
    before = snapshot()
    err = io.StringIO()

    with pytest.raises(CommandError) as caught:
        call_command("import_suggestions", path, stderr=err)

    assert caught.value.returncode == 1
    assert err.getvalue().splitlines() == [
        "row 2, column 标题: required",
        "row 3, column 主办单位: Unknown department “区建委”; did you mean “区建设管理委”?"]
    assert snapshot() == before


def test_the_command_imports_and_prints_a_summary(existing, tmp_path):
    path = write_xlsx(tmp_path / "a.xlsx", [row(), row(建议号="2024002")])
    out = io.StringIO()

    call_command("import_suggestions", "--dry-run", path, stdout=out)
    assert Suggestion.objects.filter(year=YEAR).count() == 1
    assert "2 would be created" in out.getvalue()

    call_command("import_suggestions", path, stdout=out)
    assert Suggestion.objects.filter(year=YEAR).count() == 3
    assert out.getvalue().splitlines()[-1] == "Imported 2 rows: 2 created, 0 updated, 0 unchanged."


def test_computed_columns_are_the_contracts():
    assert COMPUTED == ["状态", "是否按期", "最新进展"]
    assert len(HEADERS) == 21 and HEADERS[0] == "年度" and HEADERS[-1] == "是否公开"
