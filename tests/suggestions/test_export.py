"""Exporting suggestions: the import's columns plus the computed ones, the user's scope and filters,
and a file that re-imports as "nothing changed"."""
import datetime as dt
import io

from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from openpyxl import load_workbook

from departments.models import Department
from suggestions import spreadsheets, workflow
from suggestions.models import Suggestion
from suggestions.spreadsheets import COMPUTED, HEADERS, CleanNames, import_file, write_export
from tests.base import PASSWORD
from tests.suggestions.test_import import row, snapshot, texts, write_xlsx


def read_back(data_or_path):
    source = io.BytesIO(data_or_path) if isinstance(data_or_path, bytes) else data_or_path
    ws = load_workbook(source).worksheets[0]
    rows = list(ws.iter_rows(values_only=True))
    return rows[0], [dict(zip(rows[0], r, strict=True)) for r in rows[1:]]


def download(client, user, query=""):
    client.login(username=user.username, password=PASSWORD)
    response = client.get(reverse("suggestions:export") + query)
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats-officedocument.spreadsheetml")
    return read_back(b"".join(response.streaming_content))


def a_varied_database(people):
    """Suggestions in every state the workflow knows, with ratings, changes and progress."""
    from suggestions.models import Assignment

    people.suggestion("2025100")  # registered, never assigned
    people.assigned("2025101", co=[people.dept2])
    replied = people.replied("2025102", outcome="planned")
    workflow.record_feedback(replied, actor=people.liaison, result="dissatisfied", attitude="satisfied",
                             comments="进度太慢", recorded_on=dt.date(2025, 4, 10))
    workflow.change_outcome(replied.assignments.get(), actor=people.leader, outcome="solved",
                            effective_on=dt.date(2025, 6, 1), note="已完工")
    rehandled = people.replied("2025103", outcome="for_reference", title="=以等号开头的标题\r\n第二行")
    workflow.record_feedback(rehandled, actor=people.liaison, result="dissatisfied", attitude="dissatisfied",
                             comments="不满意", recorded_on=dt.date(2025, 4, 5))
    workflow.order_rehandling(rehandled, actor=people.office, reason="重新办理", ordered_on=dt.date(2025, 4, 6))
    handling = people.assigned("2025104")
    a = handling.assignments.get()
    workflow.accept(a, actor=people.handler, accepted_on=dt.date(2025, 3, 4))
    workflow.add_progress(a, actor=people.handler, text="已现场踏勘", noted_on=dt.date(2025, 3, 20))
    gone = people.assigned("2025105")
    workflow.withdraw(gone, actor=people.office, reason="代表撤回")
    people.replied("2024001", year=2024, on=dt.date(2024, 3, 1), reply_on=dt.date(2024, 4, 1))
    other = people.assigned("2025106", lead=people.dept2)
    return {"replied": replied, "rehandled": rehandled, "handling": handling, "other": other,
            "assignments": Assignment.objects.count()}


def test_it_writes_the_template_columns_then_the_computed_ones(people, tmp_path):
    data = a_varied_database(people)
    path = tmp_path / "all.xlsx"

    assert write_export(Suggestion.objects.all(), path) == Suggestion.objects.count()

    header, rows = read_back(str(path))
    assert list(header) == HEADERS + COMPUTED
    by_number = {r["建议号"]: r for r in rows}
    replied = by_number[data["replied"].number]
    assert replied["办理结果"] == "已经解决" and replied["结果更新日期"] == dt.datetime(2025, 6, 1)
    assert replied["答复日期"] == dt.datetime(2025, 4, 1) and replied["交办日期"] == dt.datetime(2025, 3, 3)
    assert (replied["结果满意度"], replied["态度满意度"]) == ("不满意", "满意")
    assert replied["主办单位"] == people.dept.name and replied["是否按期"] == "是"
    assert by_number["2025101"]["会办单位"] == people.dept2.name and by_number["2025101"]["办理结果"] is None
    assert by_number["2025104"]["最新进展"] == "2025-03-20 已现场踏勘"
    assert by_number["2025103"]["标题"] == "=以等号开头的标题\n第二行"  # text, not a formula
    assert by_number["2025100"]["主办单位"] is None and by_number["2025100"]["交办日期"] is None


def test_an_export_re_imports_as_nothing_changed(people, tmp_path):
    a_varied_database(people)
    assert import_file(write_xlsx(tmp_path / "history.xlsx", [
        row(建议号="2024050", 年度=2024, 办理结果="C", 答复日期=dt.date(2024, 4, 15), 会办单位="区公安分局",
            附议代表="李代表，张代表", 结果满意度="基本满意")])).ok
    path = tmp_path / "all.xlsx"
    write_export(Suggestion.objects.all(), path)
    before = snapshot()
    versions = dict(Suggestion.objects.values_list("pk", "version"))

    result = import_file(str(path))

    assert result.ok, texts(result)
    assert (result.created, result.updated, result.unchanged) == ([], [], Suggestion.objects.count())
    assert snapshot() == before
    assert dict(Suggestion.objects.values_list("pk", "version")) == versions
    # And the export of the re-imported database is the same file, cell for cell.
    again = tmp_path / "again.xlsx"
    write_export(Suggestion.objects.all(), again)
    assert read_back(str(again)) == read_back(str(path))


def test_an_edited_export_updates_what_was_edited(people, tmp_path):
    data = a_varied_database(people)
    path = tmp_path / "all.xlsx"
    write_export(Suggestion.objects.filter(pk=data["handling"].pk), path)
    wb = load_workbook(path)
    ws = wb.worksheets[0]
    ws.cell(row=2, column=HEADERS.index("标题") + 1, value="关于整治上海市中医医院门口交通乱象的建议")
    wb.save(path)

    result = import_file(str(path))

    assert result.ok and [r["changes"] for r in result.updated] == [["标题"]]
    data["handling"].refresh_from_db()
    assert data["handling"].title == "关于整治上海市中医医院门口交通乱象的建议"
    assert data["handling"].events.filter(kind="updated").exists()


def test_the_browser_export_is_the_users_scope(people, client):
    data = a_varied_database(people)

    _, rows = download(client, people.handler2)
    # dept2 leads 2025106 and co-handles 2025101; none of dept's own items is in its file.
    assert {r["建议号"] for r in rows} == {"2025101", data["other"].number}
    assert data["handling"].number not in {r["建议号"] for r in rows}

    _, rows = download(client, people.handler)
    numbers = {r["建议号"] for r in rows}
    assert data["handling"].number in numbers and data["other"].number not in numbers
    assert all(people.dept.name in (r["主办单位"] or "") + (r["会办单位"] or "") for r in rows)


def test_the_browser_export_applies_the_list_filters(people, client):
    a_varied_database(people)

    _, rows = download(client, people.office, "?year=2024")
    assert [r["建议号"] for r in rows] == ["2024001"]

    _, rows = download(client, people.office, f"?department={people.dept2.pk}&state=assigned")
    assert sorted(r["建议号"] for r in rows) == ["2025101", "2025106"]

    _, rows = download(client, people.office, "?q=不存在的标题")
    assert rows == []


def test_the_export_needs_a_login(client):
    response = client.get(reverse("suggestions:export"))
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_a_head_request_does_not_write_the_file(people, client, monkeypatch):
    """HEAD would make the server write the whole export to send none of it: refused."""
    people.replied("2025001")
    written = []
    monkeypatch.setattr(spreadsheets, "export_to_tempfile", lambda *args, **kwargs: written.append(args))
    assert client.login(username=people.office.username, password=PASSWORD)
    assert client.head(reverse("suggestions:export")).status_code == 405
    assert written == []


def test_the_export_runs_no_query_per_row(people, tmp_path):
    people.replied("2025001")
    with CaptureQueriesContext(connection) as few:
        write_export(Suggestion.objects.all(), tmp_path / "few.xlsx")
    a_varied_database(people)
    for i in range(10):
        people.replied(f"2023{i:03d}", year=2023)
    with CaptureQueriesContext(connection) as many:
        count = write_export(Suggestion.objects.all(), tmp_path / "many.xlsx")
    assert count == 19
    assert len(many.captured_queries) == len(few.captured_queries)


def test_the_command_exports_one_year(people, tmp_path):
    a_varied_database(people)
    out = io.StringIO()

    call_command("export_suggestions", "-o", str(tmp_path / "y.xlsx"), "--year", "2024", stdout=out)

    _, rows = read_back(str(tmp_path / "y.xlsx"))
    assert [r["年度"] for r in rows] == [2024]
    assert out.getvalue().strip() == f"Exported 1 suggestions to {tmp_path / 'y.xlsx'}."


def test_a_reference_name_is_read_once_and_a_new_one_when_met(people):
    names = CleanNames(Department)
    late = Department.objects.create(name=" 区民政局\x07")

    with CaptureQueriesContext(connection) as queries:
        assert names[people.dept.pk] == people.dept.name
    assert len(queries) == 0
    assert names[late.pk] == "区民政局"  # read when met, cleaned as every exported text is
