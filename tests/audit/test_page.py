"""The audit page: coordinators only; filters, pages and an Excel export of exactly what is filtered."""
import datetime as dt
import io

import pytest
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from audit import context
from audit.models import AuditEntry
from suggestions import workflow

LIST = "audit:list"


def _page(client, **params):
    r = client.get(reverse(LIST), params)
    assert r.status_code == 200
    return r.context["page"]


def _with_user(user, fn):
    with context.acting(channel=context.REQUEST, path="/test/", user=user, ip="10.9.8.7"):
        return fn()


@pytest.mark.parametrize("who", ["liaison", "handler", "leader", "handler2"])
def test_it_forbids_everyone_but_coordinators(client, people, who):
    client.force_login(getattr(people, who))
    assert client.get(reverse(LIST)).status_code == 403
    assert client.get(reverse("audit:export")).status_code == 403


def test_it_sends_anonymous_users_to_login(client, people):
    for name in (LIST, "audit:export"):
        r = client.get(reverse(name))
        assert r.status_code == 302 and r["Location"].startswith("/accounts/login/")


def test_it_filters_by_user_record_type_id_text_and_days(client, people):
    s1 = _with_user(people.office, lambda: people.suggestion("2025001", title="关于宝山路沿线整体绿化改造的建议"))
    s2 = _with_user(people.office, lambda: people.suggestion("2025002", title="关于整治中医医院门口交通乱象的建议"))
    _with_user(people.handler, lambda: workflow.update(s1, actor=people.office, content="新的内容"))
    client.force_login(people.office)

    mine = _page(client, actor="handler")
    assert {(e.actor_name, e.object_id) for e in mine} == {("handler", str(s1.pk))}
    by_model = _page(client, model="suggestions.suggestion")
    assert {e.model_label for e in by_model} == {"suggestions.suggestion"}
    assert {e.object_id for e in by_model} == {str(s1.pk), str(s2.pk)}
    by_id = _page(client, model="suggestions.suggestion", object_id=s2.pk)
    assert {e.object_id for e in by_id} == {str(s2.pk)}
    text = _page(client, q="中医医院")
    assert {e.object_id for e in text if e.model_label == "suggestions.suggestion"} == {str(s2.pk)}
    changed = _page(client, q="新的内容")  # Chinese text inside the changed values
    assert [(e.object_id, e.action) for e in changed] == [(str(s1.pk), "change")]

    today = timezone.localdate()
    assert _page(client, since=today.isoformat(), until=today.isoformat()).paginator.count == AuditEntry.objects.count()
    assert _page(client, until=(today - dt.timedelta(days=1)).isoformat()).paginator.count == 0
    assert _page(client, since=(today + dt.timedelta(days=1)).isoformat()).paginator.count == 0


def test_it_refuses_malformed_filters_without_failing(client, people):
    people.suggestion()
    client.force_login(people.office)
    for params in ({"since": "2025-02-30"}, {"until": "9999-12-31"}, {"since": "0001-01-01"},
                   {"model": "' OR 1=1 --"}, {"page": "-1"}, {"q": "<script>alert(1)</script>"}):
        r = client.get(reverse(LIST), params)
        assert r.status_code in (200, 400)
        assert "<script>alert(1)</script>" not in r.content.decode()


def test_it_pages_the_trail(client, people):
    for i in range(60):
        people.deputy.__class__.objects.create(name=f"代表{i}")
    client.force_login(people.office)
    total = AuditEntry.objects.count()
    first = _page(client)
    assert first.paginator.num_pages == -(-total // 50) and len(first.object_list) == min(total, 50)
    last = _page(client, page=first.paginator.num_pages)
    assert {e.pk for e in first}.isdisjoint({e.pk for e in last})


def test_it_exports_exactly_the_filtered_rows_as_text(client, people):
    formula = '=HYPERLINK("http://example.org","点我")'
    _with_user(people.office, lambda: people.deputy.__class__.objects.create(name=formula))
    _with_user(people.office, lambda: people.deputy.__class__.objects.create(name="李代表"))
    client.force_login(people.office)
    params = {"model": "suggestions.deputy", "actor": "office", "since": timezone.localdate().isoformat()}
    r = client.get(reverse("audit:export"), params)
    assert r.status_code == 200
    assert r["Content-Type"].startswith("application/vnd.openxmlformats-officedocument.spreadsheetml")
    ws = load_workbook(io.BytesIO(b"".join(r.streaming_content))).active
    rows = list(ws.iter_rows(min_row=2))
    shown = _page(client, **params)
    assert sorted(row[5].value for row in rows) == sorted(e.object_id for e in shown)
    assert {row[1].value for row in rows} == {"office"} and {row[2].value for row in rows} == {"10.9.8.7"}
    record_cells = [row[6] for row in rows if row[6].value == formula]
    assert record_cells and all(c.data_type == "s" for c in record_cells)  # text, never a formula
