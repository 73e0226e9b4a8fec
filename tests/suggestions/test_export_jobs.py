"""A large export of the list: written by a worker for the person who asked, with a progress page
and a download only they can use; small exports stay a direct download."""
import datetime as dt
import os

import pytest
from django.urls import reverse
from django.utils import timezone
from kombu.exceptions import OperationalError

from departments.scoping import COORDINATOR
from suggestions import spreadsheets
from suggestions.models import ExportJob, Notification
from tests.base import PASSWORD, make_user
from tests.suggestions.test_export import a_varied_database, download, read_back

EN = {"HTTP_ACCEPT_LANGUAGE": "en"}
ZH = {"HTTP_ACCEPT_LANGUAGE": "zh-hans"}


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def queued(monkeypatch):
    """The tasks sent to the broker, which the test then runs as the worker would."""
    sent = []
    monkeypatch.setattr(spreadsheets.run_export_job, "apply_async", lambda args, **kw: sent.append(args))
    return sent


def login(client, user):
    assert client.login(username=user.username, password=PASSWORD)
    return client


def ask(client, user, query=""):
    """What the person does: the list's "导出 Excel" (a GET, which asks to confirm), then the confirmation."""
    login(client, user)
    url = reverse("suggestions:export") + query
    asked = client.get(url, **EN)
    assert asked.status_code == 200 and f'action="{query or "?"}"' in asked.content.decode()
    return client.post(url, **EN)


def downloaded(client, job):
    response = client.get(reverse("suggestions:export_file", args=[job.pk]))
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment")
    return read_back(b"".join(response.streaming_content))


def test_it_writes_a_large_export_in_the_background(people, client, settings, queued,
                                                    django_capture_on_commit_callbacks):
    a_varied_database(people)
    settings.EXPORT_BACKGROUND_ROWS = 2
    query = f"?department={people.dept.pk}"

    with django_capture_on_commit_callbacks(execute=True):
        response = ask(client, people.handler, query)

    job = ExportJob.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse("suggestions:export_job", args=[job.pk])
    assert queued == [(job.pk,)] and job.state == "queued" and job.created_by == people.handler
    assert job.query == query[1:] and job.total_rows == 6
    page = client.get(response["Location"], **EN).content.decode()
    assert 'http-equiv="refresh" content="2"' in page and '<progress max="6" value="0">' in page
    assert "Waiting for a worker" in page and people.dept.name in page  # the filter, by name

    spreadsheets.run_export_job(*queued[0])  # what the worker does
    spreadsheets.run_export_job(*queued[0])  # a redelivered task changes nothing

    job.refresh_from_db()
    assert job.state == "done" and job.processed_rows == 6 and job.finished_at
    page = client.get(response["Location"], **EN).content.decode()  # a reload shows where it is
    assert "http-equiv" not in page and "The file is ready." in page
    assert reverse("suggestions:export_file", args=[job.pk]) in page
    # The bell says so, once, and leads back to the job's page (the progress page may be long closed).
    note = Notification.objects.get(recipient=people.handler)
    assert note.url == response["Location"] and "6" in note.text and job.file_name in note.text
    bell = client.get(reverse("suggestions:notifications"), **EN).content.decode()
    assert f'<a href="{note.url}">' in bell
    # Exactly the rows of the direct download of the same filters.
    settings.EXPORT_BACKGROUND_ROWS = 1000
    assert downloaded(client, job) == download(client, people.handler, query)


def test_the_file_is_what_the_owner_may_see(people, client, settings, queued, django_capture_on_commit_callbacks):
    data = a_varied_database(people)
    settings.EXPORT_BACKGROUND_ROWS = 0
    with django_capture_on_commit_callbacks(execute=True):
        ask(client, people.handler2)
    spreadsheets.run_export(queued[0][0])

    _, rows = downloaded(client, ExportJob.objects.get())

    assert {r["建议号"] for r in rows} == {"2025101", data["other"].number}


def test_only_the_owner_sees_the_job_and_its_file(people, client, settings, queued,
                                                  django_capture_on_commit_callbacks):
    a_varied_database(people)
    settings.EXPORT_BACKGROUND_ROWS = 0
    with django_capture_on_commit_callbacks(execute=True):
        ask(client, people.handler)
    spreadsheets.run_export(queued[0][0])
    job = ExportJob.objects.get()
    urls = [reverse("suggestions:export_job", args=[job.pk]), reverse("suggestions:export_file", args=[job.pk])]
    office2 = make_user("office2", COORDINATOR)

    for user in (people.leader, people.handler2, people.office, office2, people.liaison):
        login(client, user)
        assert [client.get(url).status_code for url in urls] == [404, 404], user
    client.logout()
    assert all("/accounts/login/" in client.get(url)["Location"] for url in urls)
    login(client, people.handler)
    assert [client.get(url).status_code for url in urls] == [200, 200]
    assert client.post(urls[0]).status_code == 405


def test_a_small_export_is_still_the_file_itself(people, client, settings, queued):
    a_varied_database(people)
    settings.EXPORT_BACKGROUND_ROWS = 1000

    _, rows = download(client, people.office)

    assert len(rows) == 8 and not ExportJob.objects.exists() and queued == []


def test_an_unfinished_job_offers_no_file(people, client, settings, queued, django_capture_on_commit_callbacks):
    a_varied_database(people)
    settings.EXPORT_BACKGROUND_ROWS = 0
    with django_capture_on_commit_callbacks(execute=True):
        ask(client, people.office)
    job = ExportJob.objects.get()
    ExportJob.objects.filter(pk=job.pk).update(state="running", processed_rows=3)

    page = client.get(reverse("suggestions:export_job", args=[job.pk]), **EN).content.decode()

    assert '<progress max="8" value="3">' in page and "Writing the file" in page
    assert client.get(reverse("suggestions:export_file", args=[job.pk])).status_code == 404


def test_an_unreachable_broker_writes_the_file_in_process(people, client, settings, monkeypatch,
                                                          django_capture_on_commit_callbacks):
    a_varied_database(people)
    settings.EXPORT_BACKGROUND_ROWS = 0

    def broker_down(*args, **kwargs):
        raise OperationalError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")

    monkeypatch.setattr(spreadsheets.run_export_job, "apply_async", broker_down)
    with django_capture_on_commit_callbacks(execute=True):
        ask(client, people.office)

    job = ExportJob.objects.get()
    assert job.state == "done"
    assert len(downloaded(client, job)[1]) == 8


def test_a_failed_export_says_so_and_leaves_no_file(people, client, settings, queued, monkeypatch,
                                                    django_capture_on_commit_callbacks):
    a_varied_database(people)
    settings.EXPORT_BACKGROUND_ROWS = 0
    with django_capture_on_commit_callbacks(execute=True):
        ask(client, people.office)

    def broken(queryset, target, progress=None):
        open(target, "wb").write(b"half")
        progress(2)
        raise OSError("disk full")

    monkeypatch.setattr(spreadsheets, "write_export", broken)
    spreadsheets.run_export(queued[0][0])

    job = ExportJob.objects.get()
    assert job.state == "failed" and not job.file and job.processed_rows == 2  # how far it got stays
    assert not [p for p in settings.MEDIA_ROOT.rglob("*") if p.is_file()]
    page = client.get(reverse("suggestions:export_job", args=[job.pk]), **EN).content.decode()
    assert "The export stopped on an unexpected error." in page
    note = Notification.objects.get(recipient=people.office)
    assert note.url == reverse("suggestions:export_job", args=[job.pk]) and job.file_name in note.text


def test_old_exports_are_deleted_with_their_files_at_the_next_export(people, client, settings, queued,
                                                                     django_capture_on_commit_callbacks):
    a_varied_database(people)
    settings.EXPORT_BACKGROUND_ROWS, settings.EXPORT_RETENTION_DAYS = 0, 7
    with django_capture_on_commit_callbacks(execute=True):
        ask(client, people.office)
    spreadsheets.run_export(queued[0][0])
    old = ExportJob.objects.get()
    path = old.file.path
    ExportJob.objects.filter(pk=old.pk).update(created_at=timezone.now() - dt.timedelta(days=8))

    with django_capture_on_commit_callbacks(execute=True):
        ask(client, people.office)
    spreadsheets.run_export(queued[1][0])

    assert list(ExportJob.objects.values_list("state", flat=True)) == ["done"]
    assert not ExportJob.objects.filter(pk=old.pk).exists()
    assert not os.path.exists(path)


def test_a_large_export_asks_to_confirm_and_a_get_changes_nothing(people, client, settings, queued):
    a_varied_database(people)
    settings.EXPORT_BACKGROUND_ROWS = 2
    login(client, people.office)

    page = client.get(reverse("suggestions:export") + "?year=2025", **ZH).content.decode()

    assert not ExportJob.objects.exists() and queued == []
    assert "符合条件的建议共" in page and "年度：2025" in page and "开始导出" in page
    assert 'method="post" action="?year=2025"' in page and "csrfmiddlewaretoken" in page


def test_the_job_page_is_in_chinese(people, client, settings, queued, django_capture_on_commit_callbacks):
    a_varied_database(people)
    settings.EXPORT_BACKGROUND_ROWS = 0
    login(client, people.office)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("suggestions:export") + "?year=2025", **ZH)
    spreadsheets.run_export(queued[0][0])

    page = client.get(response["Location"], **ZH).content.decode()

    assert "文件已生成" in page and "年度：2025" in page


def test_a_job_whose_worker_stopped_says_so_instead_of_running_forever(people, client, settings, queued):
    job = ExportJob.objects.create(file_name="x.xlsx", created_by=people.office, total_rows=10, processed_rows=4,
                                   state=ExportJob.State.RUNNING)
    login(client, people.office)
    url = reverse("suggestions:export_job", args=[job.pk])
    assert 'http-equiv="refresh"' in client.get(url, **ZH).content.decode()  # still writing: the page waits

    ExportJob.objects.filter(pk=job.pk).update(updated_at=timezone.now() - ExportJob.STALLED_AFTER * 2)
    page = client.get(url, **ZH).content.decode()

    assert 'http-equiv="refresh"' not in page and "已中断" in page and "请从列表重新导出" in page


def test_a_job_of_someone_deactivated_since_is_not_written(people, client, settings, queued,
                                                           django_capture_on_commit_callbacks):
    a_varied_database(people)
    settings.EXPORT_BACKGROUND_ROWS = 0
    with django_capture_on_commit_callbacks(execute=True):
        ask(client, people.handler)
    people.handler.is_active = False
    people.handler.save()

    job = spreadsheets.run_export(queued[0][0])

    assert job.state == "failed" and not job.file and not [p for p in settings.MEDIA_ROOT.rglob("*") if p.is_file()]
