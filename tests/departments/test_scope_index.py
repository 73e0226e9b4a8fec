"""On PostgreSQL a department's suggestions are found through `department_ids`, a column that triggers
keep (migration suggestions 0007). It must always say what the assignments say: whatever writes them
(a step, a bulk import, a return, a delete in the database), each user sees exactly the suggestions
that the plain EXISTS over the assignments gives."""
import datetime as dt

from django.db import connection
from django.db.models import Exists, OuterRef, Q

from departments import scoping
from suggestions import workflow
from suggestions.models import Assignment, Deputy, Suggestion


def stored_departments():
    with connection.cursor() as cursor:
        cursor.execute("SELECT id, department_ids FROM suggestions_suggestion")
        return {pk: sorted(ids) for pk, ids in cursor.fetchall()}


def departments_of_assignments():
    found = {pk: [] for pk in Suggestion.objects.values_list("pk", flat=True)}
    for suggestion, department in Assignment.objects.values_list("suggestion_id", "department_id").distinct():
        found[suggestion].append(department)
    return {pk: sorted(ids) for pk, ids in found.items()}


def seen_through_exists(user):
    ids = scoping.access(user).department_ids
    return set(Suggestion.objects.filter(
        Q(Exists(Assignment.objects.filter(suggestion=OuterRef("pk"), department_id__in=ids)))
    ).values_list("pk", flat=True))


def test_the_column_follows_every_way_assignments_are_written(require_postgres, people):
    both = people.assigned("A1", co=[people.dept2])
    returned = people.assigned("A2", lead=people.dept2)
    a = returned.assignments.get()
    workflow.request_return(a, actor=people.handler2, reason="不属于本单位职责",
                             requested_on=dt.date(2025, 3, 4))

    workflow.approve_return(a, actor=people.office, reassign_to=[people.dept3], decided_on=dt.date(2025, 3, 5))
    people.suggestion("A3")  # registered, no department yet
    deputy = Deputy.objects.create(name="李代表")
    workflow.import_new([workflow.NewItem(
        fields={"year": 2025, "number": f"B{i}", "title": f"关于第{i}件事的建议", "lead_deputy": deputy},
        co_deputies=[], assigned_on=dt.date(2025, 3, 3), lead=[people.dept], co=[people.dept3] if i % 2 else [],
        due_date=None, row=i) for i in range(6)], actor=None, file_name="list.xlsx", due_label="")
    assert stored_departments() == departments_of_assignments()
    assert stored_departments()[both.pk] == sorted([people.dept.pk, people.dept2.pk])
    # A returned assignment keeps its department in the scope, with the new one beside it.
    assert stored_departments()[returned.pk] == sorted([people.dept2.pk, people.dept3.pk])

    for user in (people.handler, people.leader, people.handler2, people.leader2):
        assert set(scoping.suggestions(user).values_list("pk", flat=True)) == seen_through_exists(user)
    assert "department_ids" in str(scoping.suggestions(people.handler).query)

    # Moved or deleted in the database (never by the product): recounted.
    Assignment.objects.filter(suggestion=both, department=people.dept2).update(department=people.dept3)
    Assignment.objects.filter(suggestion__number="B1", department=people.dept3).delete()
    assert stored_departments() == departments_of_assignments()
