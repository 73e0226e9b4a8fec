"""`seed_demo`: a district in every state, with deadlines falling around today, and its demo users."""
import datetime as dt
import io
import re

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.db.models import Count
from django.utils import timezone

from departments.models import Department, Membership, Street
from suggestions import deadlines, demo
from suggestions.choices import OPEN_ASSIGNMENT_STATES, AssignmentState, Outcome, Rating, Source, SuggestionState
from suggestions.models import (
    Assignment,
    Category,
    CoOpinion,
    Deputy,
    Event,
    ExtensionRequest,
    Feedback,
    OutcomeRecord,
    Reply,
    Suggestion,
)

JIANSHE, GONGAN = "区建设管理委", "区公安分局"


def seed(*args):
    out = io.StringIO()
    call_command("seed_demo", *args, stdout=out)
    return out.getvalue()


def due_in_workdays(department, today):
    """Working days from today to each open assignment's deadline, for one department."""
    open_ = Assignment.objects.filter(department__name=department, state__in=OPEN_ASSIGNMENT_STATES).exclude(
        suggestion__state=SuggestionState.WITHDRAWN)
    return {deadlines.workdays_until(today, due) for due in open_.values_list("due_date", flat=True)}


@pytest.mark.django_db
def test_it_seeds_a_district_with_two_years_in_every_state():
    seed()
    today = timezone.localdate()
    this_year, last_year = today.year, today.year - 1

    # Reference data: 13 streets and 1 town, each also a handling unit, the usual bodies, the topics.
    assert set(Street.objects.values_list("name", flat=True)) == set(demo.STREETS) and len(demo.STREETS) == 14
    for street in Street.objects.all():
        assert street.department.kind == Department.Kind.STREET
    assert Department.objects.filter(kind=Department.Kind.BODY).count() >= 20
    assert set(Category.objects.values_list("name", flat=True)) == {
        "美丽家园", "美丽城区", "交通出行", "养老医疗", "教育", "生态环境", "社区治理", "营商环境", "文化体育",
        "公共安全"}
    assert 55 <= Deputy.objects.count() <= 65
    assert Deputy.objects.filter(level="city").exists() and not Deputy.objects.filter(delegation="").exists()

    # At least 150 suggestions over exactly two years, numbered like 2026001, mostly from the session.
    assert Suggestion.objects.count() >= 150
    assert set(Suggestion.objects.values_list("year", flat=True)) == {last_year, this_year}
    for year, number in Suggestion.objects.values_list("year", "number"):
        assert re.fullmatch(rf"{year}\d{{3}}", number)
    by_source = dict(Suggestion.objects.values_list("source").annotate(n=Count("pk")))
    assert max(by_source, key=by_source.get) == Source.SESSION and set(by_source) == set(Source.values)

    # Every item has a real timeline: it starts with its registration and nothing is dated in the future.
    assert not Event.objects.filter(at__gt=timezone.now()).exists()
    firsts = {s.pk: s.events.order_by("at", "pk").values_list("kind", flat=True).first()
              for s in Suggestion.objects.all()}
    assert set(firsts.values()) == {Event.Kind.REGISTERED}

    check_last_year(last_year)
    check_this_year(this_year, today)
    check_users()


def check_last_year(year):
    items = Suggestion.objects.filter(year=year)
    states = dict(items.values_list("state").annotate(n=Count("pk")))
    assert states.get(SuggestionState.WITHDRAWN) == 1 and set(states) == {"replied", "withdrawn"}
    assert set(items.values_list("outcome", flat=True)) - {""} == set(Outcome.values)
    ratings = Feedback.objects.filter(suggestion__year=year)
    assert {r for pair in ratings.values_list("result", "attitude") for r in pair} == set(Rating.values)
    dissatisfied = ratings.filter(result=Rating.DISSATISFIED) | ratings.filter(attitude=Rating.DISSATISFIED)
    assert dissatisfied.exists() and not dissatisfied.filter(comments="").exists()
    assert Reply.objects.filter(assignment__suggestion__year=year, round=2, state="sent").exists()  # re-handled
    changed = OutcomeRecord.objects.filter(suggestion__year=year).values("suggestion").annotate(n=Count("pk"))
    assert changed.filter(n__gt=1).exists()  # follow-up changed an outcome, the earlier one kept
    assert items.filter(is_key=True).exclude(supervising_leader="").exists()
    assert items.filter(is_public=False).exclude(not_public_reason="").count() >= 2
    assert not items.filter(is_public=False, not_public_reason="").exists()
    assert Reply.objects.filter(assignment__suggestion__year=year, on_time=False).exists()
    # The community drive: a block like the seed's 44 items, 35 of them solved or being solved.
    community = items.filter(source=Source.COMMUNITY)
    assert community.count() == 44
    assert community.filter(outcome__in=[Outcome.SOLVED, Outcome.IN_PROGRESS]).count() == 35


def check_this_year(year, today):
    items = Suggestion.objects.filter(year=year)
    assert set(items.values_list("state", flat=True)) >= {
        SuggestionState.REGISTERED, SuggestionState.ASSIGNED, SuggestionState.HANDLING, SuggestionState.REPLIED,
        SuggestionState.REHANDLING}
    assert items.filter(awaiting_feedback=True).exists()

    # The handler's and leader's department holds an assignment in every state, and deadlines all around today.
    jianshe = Assignment.objects.filter(department__name=JIANSHE)
    assert set(jianshe.values_list("state", flat=True)) == set(AssignmentState.values)
    due = due_in_workdays(JIANSHE, today)
    assert {2, 5, 10} <= due and min(due) < 0
    if deadlines.is_workday(today):
        assert 0 in due
    returned = jianshe.filter(state=AssignmentState.RETURNED, suggestion__year=year).first()
    assert returned.suggestion.assignments.exclude(state=AssignmentState.RETURNED).exists()  # reassigned

    # handler2's department co-handles the committee's items: opinions sent, and missing.
    shared = Assignment.objects.filter(department__name=GONGAN, role="co", suggestion__year=year,
                                       suggestion__assignments__department__name=JIANSHE,
                                       suggestion__assignments__role="lead")
    assert shared.filter(state=AssignmentState.OPINION_SENT).exists()
    assert shared.filter(state=AssignmentState.HANDLING, due_date__lt=today).exists()  # overdue, still missing
    assert shared.filter(state=AssignmentState.HANDLING, due_date__gte=today).exists()  # awaited, not yet due
    assert min(due_in_workdays(GONGAN, today)) < 0
    assert CoOpinion.objects.filter(assignment__suggestion__year=year).exists()

    replies = Reply.objects.filter(assignment__suggestion__year=year)
    assert replies.filter(state="pending").exists() and replies.filter(state="sent_back").exists()
    extensions = ExtensionRequest.objects.filter(assignment__suggestion__year=year)
    assert set(extensions.values_list("state", flat=True)) == {"pending", "approved"}
    approved = extensions.get(state="approved")
    assert approved.assignment.due_date == approved.granted_due and approved.deputy_notified_on


def check_users():
    users = {u.username: u for u in get_user_model().objects.all()}
    for name in ("admin", "office", "handler", "leader", "handler2", "liaison"):
        assert users[name].check_password("demo-pass-2025"), name
        assert users[name].email.endswith(".example") and users[name].first_name
    office = users["office"]
    assert office.groups.filter(name="coordinator").exists() and office.is_staff and not office.is_superuser
    assert users["admin"].is_superuser
    assert users["liaison"].groups.filter(name="liaison").exists()
    roles = set(Membership.objects.values_list("user__username", "department__name", "role"))
    assert {("handler", JIANSHE, "handler"), ("leader", JIANSHE, "leader"), ("handler2", GONGAN, "handler")} <= roles
    others = Membership.objects.exclude(department__name__in=[JIANSHE, GONGAN])
    assert others.values("department").distinct().count() >= 2


@pytest.mark.django_db
def test_it_works_early_in_a_year_the_calendar_does_not_know_on_a_day_off(monkeypatch):
    # A Saturday in early January of a year the holiday calendar has no rows for yet.
    today = dt.date(max(deadlines.known_years()) + 1, 1, 9)
    while today.weekday() != 5:
        today += dt.timedelta(days=1)
    monkeypatch.setattr(timezone, "localdate", lambda *args, **kwargs: today)
    seed()
    assert Suggestion.objects.count() >= 150
    assert set(Suggestion.objects.filter(year=today.year).values_list("state", flat=True)) >= {
        SuggestionState.REGISTERED, SuggestionState.ASSIGNED, SuggestionState.HANDLING, SuggestionState.REPLIED}
    due = due_in_workdays(JIANSHE, today)
    assert {2, 5, 10} <= due and min(due) < 0
    assert not Suggestion.objects.filter(year=today.year - 1).exclude(state__in=["replied", "withdrawn"]).exists()


def test_it_loads_nothing_with_if_empty_when_suggestions_exist(people):
    people.suggestion()
    out = seed("--if-empty")
    assert Suggestion.objects.count() == 1 and not Street.objects.filter(name="彭浦镇").exists()
    assert "already" in out


def test_it_resets_the_demo_passwords_instead_of_loading_twice(people):
    people.suggestion()
    out = seed("--password", "another-pass-2026")
    assert Suggestion.objects.count() == 1
    for user in (people.office, people.handler, people.leader, people.handler2, people.liaison):
        user.refresh_from_db()
        assert user.check_password("another-pass-2026")
    assert "already exists" in out
