"""`seed_bench`: bulk-inserted volume data that reads as if the workflow had produced it."""
import io

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.db.models import Exists, Max, OuterRef, Q, Subquery
from django.utils import timezone

from departments.models import Department, Membership
from suggestions import deadlines, workflow
from suggestions.models import Assignment, Event, Feedback, OutcomeRecord, Reply, Suggestion


def bench(n, *args):
    out = io.StringIO()
    call_command("seed_bench", "--suggestions", str(n), *args, stdout=out)
    return out.getvalue()


def check_consistent(n):
    today = timezone.localdate()
    items = Suggestion.objects.all()
    assert items.count() == n
    assert set(items.values_list("year", flat=True)) == set(range(today.year - 9, today.year + 1))
    assert Department.objects.count() == 300
    per_item = Assignment.objects.count() / n
    assert 2.2 <= per_item <= 2.9
    assert 9 <= Event.objects.count() / n <= 14

    leads = Assignment.objects.filter(suggestion=OuterRef("pk"), role="lead").exclude(state="returned")
    replied = items.filter(state="replied")
    assert replied.count() > n * 0.8
    # The suggestion's figures are those its lead assignments and replies give.
    assert not replied.exclude(first_replied_on=Subquery(
        leads.values("suggestion").annotate(m=Max("first_replied_on")).values("m"))).exists()
    assert not replied.filter(Exists(leads.exclude(state="replied"))).exists()
    late = Reply.objects.filter(assignment__suggestion=OuterRef("pk"), round=1, on_time=False)
    assert not replied.filter(replied_on_time=True).filter(Exists(late)).exists()
    assert not replied.filter(replied_on_time=False).exclude(Exists(late)).exists()
    latest = OutcomeRecord.objects.filter(suggestion=OuterRef("pk")).order_by("-effective_on", "-pk")
    assert not replied.exclude(outcome=Subquery(latest.values("outcome")[:1])).exists()
    assert not items.filter(state__in=["handling", "assigned"]).exclude(outcome="").exists()
    # Replies: dated, on time against the deadline in force, one per replied lead and round.
    for r in Reply.objects.select_related("assignment")[:500]:
        assert r.state == "sent" and r.reply_date and r.on_time == (r.reply_date <= r.due_date)
        assert r.reply_date >= r.assignment.assigned_on
    # Deadlines are the rules' (3 months, rolled to a working day), except re-handled ones.
    for a in Assignment.objects.filter(role="lead", due_months=3)[:500]:
        assert a.due_date == deadlines.reply_deadline(a.assigned_on).date
    # Awaiting feedback exactly when no rating follows the last reply.
    rated = Feedback.objects.filter(suggestion=OuterRef("pk"), recorded_on__gte=OuterRef("first_replied_on"))
    assert not replied.filter(awaiting_feedback=False).exclude(Exists(rated)).exists()
    assert not Feedback.objects.filter(Q(result="dissatisfied") | Q(attitude="dissatisfied"), comments="").exists()
    # Every item and assignment has its line in the timeline, none in the future.
    assert Event.objects.filter(kind="registered").count() == n
    assert Event.objects.filter(kind="assigned").count() == Assignment.objects.count()
    assert not Event.objects.filter(at__gt=timezone.now()).exists()


def check_users():
    users = get_user_model().objects.filter(username__startswith="bench-")
    assert users.count() == 4 and all(u.check_password("demo-pass-2025") for u in users)
    assert Membership.objects.filter(user__username="bench-handler", role="handler").exists()
    assert users.get(username="bench-office").groups.filter(name="coordinator").exists()


@pytest.mark.django_db
def test_it_bulk_inserts_ten_years_consistent_with_the_workflow():
    out = bench(400, "--seed", "3")
    assert "400" in out
    check_consistent(400)
    check_users()
    # The workflow carries on from the loaded state: a reply awaiting feedback takes its rating.
    waiting = Suggestion.objects.filter(state="replied", awaiting_feedback=True).first()
    workflow.record_feedback(waiting, actor=None, result="satisfied", attitude="satisfied",
                             recorded_on=timezone.localdate())
    waiting.refresh_from_db()
    assert not waiting.awaiting_feedback


@pytest.mark.django_db
def test_it_adds_more_suggestions_numbered_after_the_existing_ones():
    bench(30, "--seed", "1")
    bench(30, "--seed", "2")
    assert Suggestion.objects.count() == 60
    assert Suggestion.objects.values("year", "number").distinct().count() == 60
    assert Department.objects.count() == 300


@pytest.mark.django_db
def test_it_writes_the_same_data_on_postgresql_with_copy(require_postgres):
    bench(300, "--seed", "4")
    check_consistent(300)
    check_users()
    # The keys taken from the sequences leave the ordinary inserts working after them.
    s = Suggestion.objects.filter(state="replied").first()
    workflow.record_feedback(s, actor=None, result="satisfied", attitude="satisfied",
                             recorded_on=timezone.localdate())
    assert Feedback.objects.filter(suggestion=s).exists()
