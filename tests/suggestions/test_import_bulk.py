"""The new rows of an assignment list are written in bulk (`workflow.import_new`): the result must be
exactly what the workflow's steps one by one write, row for row, event for event, in the audit trail,
the title index and the notifications."""
import datetime as dt

import pytest
from django.db import transaction
from django.utils import translation

from audit.models import AuditEntry
from config.celery_app import app
from suggestions.models import Assignment, Event, Notification, Suggestion
from suggestions.spreadsheets import Importer, import_file
from supervision.models import TitleGram

from .test_import import row, write_xlsx

SKIPPED = {"id", "created_at", "updated_at"}


def _fields(obj):
    return {f.attname: getattr(obj, f.attname) for f in obj._meta.concrete_fields if f.attname not in SKIPPED}


def state_of_the_database():
    """Everything an import of new rows writes, keyed by what does not depend on generated ids."""
    suggestions = {s.pk: s for s in Suggestion.objects.select_related("lead_deputy")}
    key = {pk: (s.year, s.number) for pk, s in suggestions.items()}
    assignments = {a.pk: a for a in Assignment.objects.select_related("department")}
    akey = {pk: (*key[a.suggestion_id], a.department.name) for pk, a in assignments.items()}
    rows = {}
    for s in suggestions.values():
        values = _fields(s)
        values["lead_deputy_id"] = s.lead_deputy.name
        values["co_deputies"] = sorted(d.name for d in s.co_deputies.all())
        rows[key[s.pk]] = values
    for a in assignments.values():
        rows[akey[a.pk]] = {**_fields(a), "suggestion_id": key[a.suggestion_id]}
    timeline = {}
    for e in Event.objects.order_by("pk"):
        # Lines dated by the import's own moment (not a day of the spreadsheet) differ by microseconds.
        at = e.at if e.kind in ("registered", "assigned") else None
        line = (e.kind, akey.get(e.assignment_id), e.actor_id, e.detail, e.data, at)
        timeline.setdefault(key[e.suggestion_id], []).append(line)
    # The audit trail, replayed: the last value each entry gave each field of each row.
    replayed = {}
    ids = {"suggestions.suggestion": key, "suggestions.assignment": akey}
    for entry in AuditEntry.objects.filter(model_label__in=ids).order_by("pk"):
        values = replayed.setdefault(ids[entry.model_label][int(entry.object_id)], {})
        values.update({name: change["new"] for name, change in entry.changes.items()
                       if name not in ("suggestion_id", "lead_deputy_id", "co_deputies")})
    return {
        "rows": rows,
        "timeline": timeline,
        "audit": replayed,
        "grams": sorted((key[s], g) for s, g in TitleGram.objects.values_list("suggestion_id", "gram")),
        "notifications": sorted((n.recipient_id, key[n.suggestion_id], n.text) for n in Notification.objects.all()),
    }


def imported(path, django_capture_on_commit_callbacks):
    with transaction.atomic():
        with django_capture_on_commit_callbacks(execute=True):
            result = import_file(path)
        assert result.ok, [i.text() for i in result.issues]
        state = state_of_the_database()
        transaction.set_rollback(True)
    return result, state


@pytest.fixture
def assignment_list(people, tmp_path):
    """New rows of every shape the bulk path handles."""
    rows = [
        row(建议号="A1"),
        row(建议号="A2", 附议代表="李代表、张代表", 会办单位="区公安分局", 内容="沿线绿化带缺株断档。",
            类别=people.category.name, 街镇=people.street.name, 来源="闭会期间"),
        # A deadline in the list that differs from the computed one, on a Sunday: moved to Monday.
        row(建议号="A3", 办复期限=dt.date(2024, 5, 12), 重点建议="是", 督办领导="陈副区长"),
        # A deadline in the list equal to the computed one: nothing moves.
        row(建议号="A4", 办复期限=dt.date(2024, 6, 4), 是否公开="否"),
        row(建议号="A5", 主办单位="区建设管理委、南京西路街道办事处", 交办日期=dt.date(2024, 9, 30), 领衔代表="新代表"),
    ]
    return write_xlsx(tmp_path / "list.xlsx", rows)


def test_the_bulk_path_writes_what_the_workflow_writes(assignment_list, monkeypatch,
                                                       django_capture_on_commit_callbacks):
    # The bulk path leaves the title index to the worker after the commit (similarity.index_new): run
    # the worker's tasks in place, for both paths alike.
    monkeypatch.setattr(app.conf, "task_always_eager", True)
    bulk_result, bulk = imported(assignment_list, django_capture_on_commit_callbacks)
    monkeypatch.setattr(Importer, "_is_new_assignment", lambda self, row: False)
    step_result, step_by_step = imported(assignment_list, django_capture_on_commit_callbacks)

    assert bulk_result.created == step_result.created and len(bulk_result.created) == 5
    assert bulk["rows"] == step_by_step["rows"]
    assert bulk["timeline"] == step_by_step["timeline"]
    assert bulk["grams"] == step_by_step["grams"] and bulk["grams"]
    assert bulk["notifications"] == step_by_step["notifications"] and bulk["notifications"]
    assert bulk["audit"] == step_by_step["audit"]
    # What the comparison stands on: the moved deadline, the key item and the co-signers are there.
    a3 = bulk["rows"][(2024, "A3", "区建设管理委")]
    assert a3["due_date"] == dt.date(2024, 5, 13) and a3["version"] == 2
    assert bulk["rows"][(2024, "A4", "区建设管理委")]["version"] == 1
    assert [line[0] for line in bulk["timeline"][(2024, "A3")]] == [
        "registered", "assigned", "deadline_changed", "imported"]
    assert bulk["rows"][(2024, "A2")]["co_deputies"] == ["张代表", "李代表"]


def test_a_number_registered_meanwhile_is_named_on_its_row_and_nothing_is_written(assignment_list, people,
                                                                                  monkeypatch):
    from suggestions import workflow

    load = Importer._load_deputies

    def racing(self, rows):  # someone registers A4 between the checks and the writing
        load(self, rows)
        workflow.register(actor=None, year=2024, number="A4", title="抢先登记", lead_deputy=people.deputy)

    monkeypatch.setattr(Importer, "_load_deputies", racing)
    with translation.override("zh-hans"):  # the workflow's refusal is worded in the active language
        result = import_file(assignment_list)
    with translation.override("en"):
        assert [(i.row, i.column, i.text()) for i in result.issues] == [
            (5, "建议号", "row 5, column 建议号: 2024 年度已有建议号 A4。")]
    assert list(Suggestion.objects.values_list("number", flat=True)) == ["A4"]
    assert not Assignment.objects.exists()
