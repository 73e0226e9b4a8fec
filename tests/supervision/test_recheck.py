"""Sampled re-checks (抽样复查): a reproducible sample of solved items, findings, and reopening."""
import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied

from suggestions import workflow
from suggestions.models import Event, Suggestion
from supervision import actions, queries
from supervision.models import RecheckFinding, RecheckResult, RecheckSample

YEAR_2025 = (dt.date(2025, 1, 1), dt.date(2025, 12, 31))


def district(people):
    """Twelve items replied as solved in 2025, one solved in 2024, and items of every other kind."""
    solved = [people.replied(f"2025{n:03d}", reply_on=dt.date(2025, 4, 1)) for n in range(1, 13)]
    early = people.replied("2024001", year=2024, on=dt.date(2024, 3, 1), reply_on=dt.date(2024, 4, 1))
    planned = people.replied("2025101", outcome="planned")
    open_item = people.assigned("2025102")
    # Solved on reply, then re-handling ordered: not "replied as solved" any more.
    rehandled = people.replied("2025103")
    workflow.order_rehandling(rehandled, actor=people.office, reason="代表不满意", ordered_on=dt.date(2025, 5, 6))
    # Planned on reply, solved later in the year: it counts, from the date it became solved.
    later = people.replied("2025104", outcome="planned")
    workflow.change_outcome(later.assignments.get(), actor=people.leader, outcome="solved",
                            effective_on=dt.date(2025, 9, 1), note="已完工")
    return {"solved": solved + [later], "excluded": [early, planned, open_item, rehandled]}


def test_it_draws_a_reproducible_sample_only_from_items_solved_in_the_period(people):
    d = district(people)
    allowed = {s.pk for s in d["solved"]}
    campaign = actions.create_recheck(actor=people.office, title="2025年度抽样复查", replied_from=YEAR_2025[0],
                                      replied_to=YEAR_2025[1], percent=30)
    drawn = set(campaign.samples.values_list("suggestion_id", flat=True))
    assert campaign.population == len(allowed)
    assert len(drawn) == 4  # 30% of 13 = 3.9, rounded half up
    assert drawn <= allowed
    # The stored seed draws the same sample again, in the same order.
    population, again = actions.draw(*YEAR_2025, campaign.seed, percent=30)
    assert set(again) == drawn and set(population) == allowed
    assert actions.draw(*YEAR_2025, campaign.seed, percent=30)[1] == again
    # Another seed, another sample (at least one of a few seeds differs).
    assert any(set(actions.draw(*YEAR_2025, seed, percent=30)[1]) != drawn for seed in range(5))


def test_it_never_draws_outside_the_allowed_set_whatever_the_size(people):
    d = district(people)
    for seed in range(20):
        campaign = actions.create_recheck(actor=people.office, title=f"#{seed}", replied_from=YEAR_2025[0],
                                          replied_to=YEAR_2025[1], size=50, seed=seed)
        drawn = set(campaign.samples.values_list("suggestion_id", flat=True))
        assert drawn == {s.pk for s in d["solved"]}  # a size beyond the set takes all of it, nothing else
    only_september = actions.draw(dt.date(2025, 9, 1), dt.date(2025, 9, 30), 1, size=5)[1]
    assert only_september == [d["solved"][-1].pk]


def test_it_reopens_an_item_found_not_done_with_the_rehandling_deadline(people, settings):
    district(people)
    campaign = actions.create_recheck(actor=people.office, title="复查", replied_from=YEAR_2025[0],
                                      replied_to=YEAR_2025[1], size=2, seed=7)
    bad, good = campaign.samples.select_related("suggestion")
    actions.assign_checkers([bad, good], actor=people.office, checkers=[people.office, people.liaison])
    checked_on = dt.date(2025, 10, 9)
    actions.record_finding(good, actor=people.office, method="phone", checked_on=checked_on, result="done",
                           text="代表确认标识已更新")
    actions.record_finding(bad, actor=people.office, method="unannounced", checked_on=checked_on,
                           result="not_done", text="现场标识仍未更新")

    s = Suggestion.objects.get(pk=bad.suggestion_id)
    lead = s.assignments.get()
    assert s.state == "rehandling" and lead.state == "rehandling"
    # The re-handling period from the day of the finding, moved off the National Day holiday if need be.
    from suggestions import deadlines
    assert lead.due_date == deadlines.rehandling_deadline(checked_on).date
    assert lead.due_date > checked_on and lead.due_months == settings.REHANDLING_MONTHS
    event = s.events.order_by("pk").last()
    assert event.kind == Event.Kind.REHANDLING and event.data["supervision"] == "recheck"
    assert "现场标识仍未更新" in event.detail and event.data["due_date"] == lead.due_date.isoformat()

    ok = Suggestion.objects.get(pk=good.suggestion_id)
    assert ok.state == "replied"
    assert ok.events.order_by("pk").last().data == {"supervision": "recheck", "recheck_id": campaign.pk,
                                                    "check_result": "done"}
    bad.refresh_from_db()
    assert bad.reopened and bad.result == RecheckResult.NOT_DONE
    # The department can now reply again.
    assert workflow.allowed(people.handler, "draft_reply", lead)


def test_it_counts_the_rechecks_for_the_report(people):
    district(people)
    campaign = actions.create_recheck(actor=people.office, title="复查", replied_from=YEAR_2025[0],
                                      replied_to=YEAR_2025[1], size=3, seed=3)
    first, second, _third = campaign.samples.all()
    actions.record_finding(first, actor=people.office, method="site", checked_on=dt.date(2025, 10, 9),
                           result="not_done", text="未整改")
    actions.record_finding(second, actor=people.office, method="phone", checked_on=dt.date(2025, 10, 9),
                           result="done", text="已整改")
    actions.record_finding(second, actor=people.office, method="meeting", checked_on=dt.date(2025, 10, 20),
                           result="done", text="座谈确认")
    summary = queries.recheck_summary(2025)
    assert summary == {"campaigns": 1, "sampled": 3, "checked": 2, "confirmed": 1, "not_done": 1, "reopened": 1,
                       "by_method": {"unannounced": 0, "phone": 1, "meeting": 1, "site": 1}}
    assert queries.recheck_summary(2024)["sampled"] == 0
    # As of a day before the findings, nothing was checked yet.
    assert queries.recheck_summary(2025, as_of=dt.date(2025, 10, 8))["checked"] == 0
    assert RecheckFinding.objects.count() == 3


def test_it_lets_only_the_office_run_rechecks(people):
    district(people)
    with pytest.raises(PermissionDenied):
        actions.create_recheck(actor=people.handler, title="x", replied_from=YEAR_2025[0],
                               replied_to=YEAR_2025[1], size=1)
    campaign = actions.create_recheck(actor=people.office, title="x", replied_from=YEAR_2025[0],
                                      replied_to=YEAR_2025[1], size=1)
    sample = RecheckSample.objects.get(campaign=campaign)
    with pytest.raises(PermissionDenied):
        actions.record_finding(sample, actor=people.leader, method="phone", checked_on=dt.date(2025, 10, 9),
                               result="not_done", text="x")
    assert Suggestion.objects.get(pk=sample.suggestion_id).state == "replied"


def test_it_refuses_a_sample_of_nothing(people):
    district(people)
    with pytest.raises(workflow.WorkflowError):
        actions.create_recheck(actor=people.office, title="x", replied_from=dt.date(2023, 1, 1),
                               replied_to=dt.date(2023, 12, 31), percent=10)


def test_it_counts_only_the_users_scope_when_asked(people):
    district(people)
    other = people.assigned("2025201", lead=people.dept2)
    a = other.assignments.get()
    workflow.accept(a, actor=people.handler2)
    r = workflow.draft_reply(a, actor=people.handler2, outcome="solved", body="已解决", strict=False)
    workflow.sign_reply(r, actor=people.leader2, reply_date=dt.date(2025, 4, 1), document_number="1号", strict=False)
    campaign = actions.create_recheck(actor=people.office, title="复查", replied_from=YEAR_2025[0],
                                      replied_to=YEAR_2025[1], size=50)
    assert other.pk in set(campaign.samples.values_list("suggestion_id", flat=True))
    assert queries.recheck_summary(2025, user=people.handler2)["sampled"] == 1
    assert queries.recheck_summary(2025, user=people.office)["sampled"] == campaign.samples.count()


def test_it_records_a_not_done_finding_on_an_item_already_being_rehandled_without_reopening_it(people):
    district(people)
    campaign = actions.create_recheck(actor=people.office, title="复查", replied_from=YEAR_2025[0],
                                      replied_to=YEAR_2025[1], size=1, seed=1)
    sample = campaign.samples.get()
    workflow.order_rehandling(sample.suggestion, actor=people.office, reason="代表不满意")
    lead = sample.suggestion.assignments.get()
    due = lead.due_date
    actions.record_finding(sample, actor=people.office, method="phone", checked_on=dt.date(2025, 10, 9),
                           result="not_done", text="仍未整改")
    lead.refresh_from_db()
    sample.refresh_from_db()
    assert lead.due_date == due and not sample.reopened and sample.result == "not_done"
