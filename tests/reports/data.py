"""Report-shaped data in bulk, for tests only.

The seed's year has 172 items; going through every workflow step for each would make the suite slow,
so these helpers write the rows the workflow would have written (a suggestion replied on a date, its
lead assignment, its outcome history, its ratings) with `bulk_create`, a handful of queries per call.
The small cases of the report's tests go through `suggestions.workflow` itself.
"""
import datetime as dt
import itertools
from dataclasses import dataclass, field

from departments.models import Department, Street
from suggestions.models import Assignment, Category, Feedback, OutcomeRecord, Suggestion

_numbers = itertools.count(1)


@dataclass
class Item:
    """One suggestion to write: its outcome history [(date, outcome)], ratings [(date, result, attitude)]."""

    history: list = field(default_factory=list)
    year: int = 2025
    source: str = "session"
    department: Department | None = None
    co: list = field(default_factory=list)
    street: Street | None = None
    category: Category | None = None
    assigned_on: dt.date | None = None
    replied_on: dt.date | None = None
    on_time: bool = True
    ratings: list = field(default_factory=list)
    is_key: bool = False
    is_public: bool = True
    state: str | None = None


def replied(outcome, year=2025, replied_on=None, **fields):
    """An item replied with `outcome` (by default on 1 April of its year)."""
    replied_on = replied_on or dt.date(year, 4, 1)
    return Item(history=[(replied_on, outcome)], year=year, replied_on=replied_on, **fields)


def write(people, items):
    """Write `items` in a few bulk inserts; returns the suggestions in the same order."""
    suggestions = []
    for item in items:
        assigned_on = item.assigned_on or dt.date(item.year, 3, 1)
        current = item.history[-1][1] if item.history else ""
        suggestions.append(Suggestion(
            year=item.year, number=f"B{next(_numbers):06d}", title="关于宝山路沿线整体绿化改造的建议",
            lead_deputy=people.deputy, source=item.source, category=item.category, street=item.street,
            is_key=item.is_key, is_public=item.is_public,
            state=item.state or ("replied" if item.replied_on else "handling"), outcome=current,
            first_replied_on=item.replied_on, replied_on_time=item.on_time if item.replied_on else None,
            assigned_on=assigned_on))
    suggestions = Suggestion.objects.bulk_create(suggestions)
    assignments, records, feedback = [], [], []
    for s, item in zip(suggestions, items, strict=True):
        lead = item.department or people.dept
        assignments.append(Assignment(suggestion=s, department=lead, role="lead",
                                      state="replied" if item.replied_on else "handling",
                                      assigned_on=s.assigned_on, due_date=s.assigned_on + dt.timedelta(days=92),
                                      outcome=s.outcome, first_replied_on=item.replied_on))
        for department in item.co:
            assignments.append(Assignment(suggestion=s, department=department, role="co", state="opinion_sent",
                                          assigned_on=s.assigned_on,
                                          due_date=s.assigned_on + dt.timedelta(days=31)))
        records += [OutcomeRecord(suggestion=s, outcome=outcome, effective_on=day) for day, outcome in item.history]
        feedback += [Feedback(suggestion=s, result=result, attitude=attitude, recorded_on=day,
                              comments="意见" if "dissatisfied" in (result, attitude) else "")
                     for day, result, attitude in item.ratings]
    Assignment.objects.bulk_create(assignments)
    OutcomeRecord.objects.bulk_create(records)
    Feedback.objects.bulk_create(feedback)
    return suggestions


def departments(n):
    """`n` government bodies, created once and reused."""
    return [Department.objects.get_or_create(name=f"区测试局{i:02d}", defaults={"order": 100 + i})[0]
            for i in range(n)]


def streets(n):
    return [Street.objects.get_or_create(name=f"测试{i:02d}街道", defaults={"order": 100 + i})[0] for i in range(n)]


def categories(n):
    return [Category.objects.get_or_create(name=f"测试类别{i:02d}", defaults={"order": 100 + i})[0]
            for i in range(n)]
