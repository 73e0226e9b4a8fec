"""The browser's import: upload, check, preview, confirm; in the background for large files."""
import datetime as dt
import io
import os
import time

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from kombu.exceptions import OperationalError
from openpyxl import load_workbook

from audit.models import AuditEntry
from suggestions import spreadsheets
from suggestions.models import ImportJob, Suggestion
from tests.base import COORDINATOR, PASSWORD, make_user
from tests.suggestions.test_import import row, snapshot, write_xlsx

EN = {"HTTP_ACCEPT_LANGUAGE": "en"}


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


def login(client, user):
    assert client.login(username=user.username, password=PASSWORD)
    return client


def upload(client, path, name="交办清单.xlsx"):
    with open(path, "rb") as f:
        return client.post(reverse("suggestions:import"), {"file": SimpleUploadedFile(name, f.read())}, **EN)


def test_the_import_pages_are_the_coordinators(people, client, tmp_path):
    job = ImportJob.objects.create(original_name="x.xlsx", file="imports/x.xlsx", created_by=people.office)
    urls = [reverse("suggestions:import"), reverse("suggestions:import_job", args=[job.pk]),
            reverse("suggestions:import_template")]
    for url in urls:
        response = client.get(url)
        assert response.status_code == 302 and "/accounts/login/" in response["Location"]
    for user in (people.handler, people.leader, people.handler2, people.liaison):
        login(client, user)
        assert [client.get(url).status_code for url in urls] == [403, 403, 403]
        assert client.post(reverse("suggestions:import_job", args=[job.pk])).status_code == 403
    login(client, people.office)
    assert [client.get(url).status_code for url in urls] == [200, 200, 200]


def test_an_upload_is_checked_previewed_then_imported_on_confirmation(people, client, tmp_path):
    path = write_xlsx(tmp_path / "a.xlsx", [row(), row(建议号="2024002", 办理结果="已经解决",
                                                        答复日期=dt.date(2024, 4, 15))])
    login(client, people.office)
    before = snapshot()

    response = upload(client, path)

    job = ImportJob.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse("suggestions:import_job", args=[job.pk])
    assert (job.state, job.total_rows, job.original_name, job.created_by) == ("checked", 2, "交办清单.xlsx",
                                                                              people.office)
    assert snapshot() == before  # checked, not written
    page = client.get(response["Location"], **EN).content.decode()
    assert "Confirm the import" in page and "2024002" in page and "http-equiv=\"refresh\"" not in page

    response = client.post(reverse("suggestions:import_job", args=[job.pk]), **EN)

    job.refresh_from_db()
    assert job.state == "done" and job.summary["created"] == 2
    assert Suggestion.objects.filter(year=2024).count() == 2
    assert "The import is done." in client.get(reverse("suggestions:import_job", args=[job.pk]), **EN).content.decode()
    # A second confirmation (a reload of the POST) imports nothing more.
    response = client.post(reverse("suggestions:import_job", args=[job.pk]), follow=True, **EN)
    assert "can no longer be confirmed" in response.content.decode()
    assert Suggestion.objects.filter(year=2024).count() == 2


def test_the_office_fixes_three_mistakes_imports_200_rows_and_downloads_them_back(people, client, tmp_path):
    """The issue's "done when", step by step."""
    rows = [row(建议号=f"2024{i:03d}", 标题=f"关于第{i}件民生实事的建议") for i in range(1, 201)]
    rows[20]["主办单位"] = "区建委"
    rows[76]["交办日期"] = "2024-02-30"
    rows[180]["领衔代表"] = None
    login(client, people.office)

    response = upload(client, write_xlsx(tmp_path / "bad.xlsx", rows))

    job = ImportJob.objects.get()
    assert job.state == "rejected"
    page = client.get(response["Location"], **EN).content.decode()
    assert "3 errors: nothing was written" in page
    for text in ("row 22, column 主办单位: Unknown department “区建委”; did you mean “区建设管理委”?",
                 "row 78, column 交办日期: “2024-02-30” is not a real date.",
                 "row 182, column 领衔代表: required"):
        assert text in page
    assert not Suggestion.objects.filter(year=2024).exists()

    rows[20]["主办单位"] = "区建设管理委"
    rows[76]["交办日期"] = "2024-02-29"
    rows[180]["领衔代表"] = "李代表"
    response = upload(client, write_xlsx(tmp_path / "good.xlsx", rows))
    job = ImportJob.objects.latest("pk")
    assert job.state == "checked" and job.summary["created"] == 200
    client.post(reverse("suggestions:import_job", args=[job.pk]))
    assert Suggestion.objects.filter(year=2024).count() == 200

    exported = client.get(reverse("suggestions:export") + "?year=2024&q=民生实事")
    ws = load_workbook(io.BytesIO(b"".join(exported.streaming_content))).worksheets[0]
    numbers = [r[1] for r in ws.iter_rows(min_row=2, values_only=True)]
    assert sorted(numbers) == [f"2024{i:03d}" for i in range(1, 201)]


def test_a_file_that_is_not_a_workbook_is_refused_on_the_upload_page(people, client):
    login(client, people.office)
    response = client.post(reverse("suggestions:import"),
                           {"file": SimpleUploadedFile("list.xlsx", "年度,建议号\n".encode())}, **EN)
    assert response.status_code == 400
    assert "This is not an Excel workbook (.xlsx)." in response.content.decode()
    assert not ImportJob.objects.exists()


def test_a_large_file_is_checked_by_a_worker_with_a_progress_page(people, client, tmp_path, settings, monkeypatch,
                                                                   django_capture_on_commit_callbacks):
    settings.IMPORT_BACKGROUND_ROWS = 2
    queued = []
    monkeypatch.setattr(spreadsheets.run_import_job, "apply_async", lambda args, **kw: queued.append(args))
    login(client, people.office)

    with django_capture_on_commit_callbacks(execute=True):
        response = upload(client, write_xlsx(tmp_path / "a.xlsx", [row(建议号=f"2024{i:03d}") for i in range(1, 4)]))

    job = ImportJob.objects.get()
    assert queued == [(job.pk, "check", people.office.pk, "127.0.0.1")] and job.state == "queued"
    spreadsheets._write_progress(job, 1, 3)
    page = client.get(response["Location"], **EN).content.decode()
    assert 'http-equiv="refresh" content="2"' in page and '<progress max="3" value="1">' in page

    spreadsheets.run_import_job(*queued[0])  # what the worker does
    spreadsheets.run_import_job(*queued[0])  # a redelivered task changes nothing
    job.refresh_from_db()
    assert job.state == "checked" and job.summary["created"] == 3
    page = client.get(response["Location"], **EN).content.decode()
    assert "http-equiv" not in page and "Confirm the import" in page

    # Confirmed by another coordinator from another address: the worker's writes are theirs on the trail.
    other = make_user("office2", COORDINATOR)
    login(client, other)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(response["Location"], REMOTE_ADDR="10.1.2.3", **EN)
    assert queued[1] == (job.pk, "import", other.pk, "10.1.2.3")
    spreadsheets.run_import_job(*queued[1])
    created = Suggestion.objects.filter(number__startswith="2024")
    assert created.count() == 3
    entries = AuditEntry.objects.filter(model_label="suggestions.suggestion", action="create",
                                        object_id__in=[str(pk) for pk in created.values_list("pk", flat=True)])
    assert {(e.actor, e.ip_address, e.channel) for e in entries} == {(other, "10.1.2.3", "import")}
    assert entries.count() == 3


def test_an_unreachable_broker_runs_the_job_in_process(people, client, tmp_path, settings, monkeypatch,
                                                       django_capture_on_commit_callbacks):
    settings.IMPORT_BACKGROUND_ROWS = 0

    def broker_down(*args, **kwargs):
        raise OperationalError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")

    monkeypatch.setattr(spreadsheets.run_import_job, "apply_async", broker_down)
    login(client, people.office)

    with django_capture_on_commit_callbacks(execute=True):
        upload(client, write_xlsx(tmp_path / "a.xlsx", [row()]))
    job = ImportJob.objects.get()
    assert job.state == "checked"
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("suggestions:import_job", args=[job.pk]))
    job.refresh_from_db()
    assert job.state == "done" and Suggestion.objects.filter(year=2024).count() == 1


def test_an_import_whose_worker_stopped_says_so_instead_of_running_forever(people, client, settings):
    os.makedirs(settings.MEDIA_ROOT / "imports", exist_ok=True)
    job = ImportJob.objects.create(original_name="x.xlsx", file="imports/x.xlsx", created_by=people.office,
                                   state=ImportJob.State.IMPORTING, total_rows=8000)
    login(client, people.office)
    url = reverse("suggestions:import_job", args=[job.pk])
    # Confirmed, its worker not started yet (no progress written): waiting, not interrupted.
    assert 'http-equiv="refresh"' in client.get(url, HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    progress = spreadsheets.progress_path(job)
    with open(progress, "w") as f:
        f.write("500 8000")
    page = client.get(url, **EN).content.decode()  # writing: its progress shown, the page waits
    assert '<progress max="8000" value="500">' in page and 'http-equiv="refresh"' in page
    old = time.time() - ImportJob.STALLED_AFTER.total_seconds() - 60
    os.utime(progress, (old, old))

    page = client.get(url, HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()

    assert 'http-equiv="refresh"' not in page and "已中断" in page and "未写入任何数据" in page


def test_the_template_lists_the_valid_values_on_its_second_sheet(people, client):
    login(client, people.office)
    response = client.get(reverse("suggestions:import_template"))
    wb = load_workbook(io.BytesIO(b"".join(response.streaming_content)))
    assert len(wb.worksheets) == 2
    assert [c.value for c in wb.worksheets[0][1]] == spreadsheets.HEADERS
    columns = {col[0].value: [c.value for c in col[1:] if c.value] for col in wb.worksheets[1].iter_cols()}
    values = list(columns.values())
    assert {people.dept.name, people.dept2.name, people.dept3.name} <= set(values[0])
    assert values[1] == [people.category.name] and values[2] == [people.street.name]


def _compile_po(po_path, mo_path):
    """Just enough of msgfmt for a catalogue of single-line entries (CI may lack gettext)."""
    import array
    import ast
    import struct

    messages, msgid = {}, None
    for line in po_path.read_text(encoding="utf-8").splitlines():
        if line.startswith("msgid "):
            msgid = ast.literal_eval(line[6:])
        elif line.startswith("msgstr ") and msgid is not None:
            messages[msgid] = ast.literal_eval(line[7:])
    messages[""] = "Content-Type: text/plain; charset=UTF-8\n"
    keys = sorted(messages)
    ids = strs = b""
    offsets = []
    for key in keys:
        k, v = key.encode(), messages[key].encode()
        offsets.append((len(ids), len(k), len(strs), len(v)))
        ids, strs = ids + k + b"\0", strs + v + b"\0"
    key_start = 7 * 4 + 16 * len(keys)
    table = [x for o1, l1, _o2, _l2 in offsets for x in (l1, o1 + key_start)]
    table += [x for _o1, _l1, o2, l2 in offsets for x in (l2, o2 + key_start + len(ids))]
    mo_path.parent.mkdir(parents=True)
    mo_path.write_bytes(struct.pack("Iiiiiii", 0x950412DE, 0, len(keys), 28, 28 + len(keys) * 8, 0, 0)
                        + array.array("i", table).tobytes() + ids + strs)


def test_the_browser_names_rows_and_columns_the_chinese_way(people, client, tmp_path, settings):
    _compile_po(settings.BASE_DIR / "locale" / "parts" / "io.po",
                tmp_path / "loc" / "zh_Hans" / "LC_MESSAGES" / "django.mo")
    settings.LOCALE_PATHS = [tmp_path / "loc"]
    login(client, people.office)
    bad = write_xlsx(tmp_path / "a.xlsx", [row(标题=None), row(建议号="2024002", 主办单位="区建委")])

    response = upload(client, bad)
    page = client.get(response["Location"], HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()

    assert "第 2 行，列 标题：必填" in page
    assert "第 3 行，列 主办单位：没有“区建委”这个单位；是否应为“区建设管理委”？" in page
