import datetime as dt

from suggestions import workflow
from suggestions.models import OutcomeRecord


def test_it_runs_a_suggestion_through_reply_feedback_and_rehandling(people):
    s = people.replied(outcome="planned")
    assert s.state == "replied" and s.outcome == "planned" and s.replied_on_time
    assert s.first_replied_on == dt.date(2025, 4, 1)
    workflow.record_feedback(s, actor=people.liaison, result="dissatisfied", attitude="satisfied",
                             comments="进度太慢", recorded_on=dt.date(2025, 4, 10))
    workflow.order_rehandling(s, actor=people.office, reason="代表不满意", ordered_on=dt.date(2025, 4, 11))
    s.refresh_from_db()
    assert s.state == "rehandling"
    a = s.assignments.get()
    assert a.due_date == dt.date(2025, 5, 12)  # 2025-05-11 is a Sunday
    r = workflow.draft_reply(a, actor=people.handler, outcome="solved", body="已完成", drafted_on=dt.date(2025, 5, 1))
    workflow.sign_reply(r, actor=people.leader, reply_date=dt.date(2025, 5, 6), document_number="x")
    s.refresh_from_db()
    assert s.state == "replied" and s.outcome == "solved"
    assert list(OutcomeRecord.objects.values_list("outcome", flat=True)) == ["planned", "solved"]
    assert a.replies.count() == 2
