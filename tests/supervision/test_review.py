"""Follow-up reviews (跟踪复查) and the look-back (回头看): candidates, re-assignment, the new outcome."""
import datetime as dt

import pytest
from django.utils import timezone

from suggestions import workflow
from suggestions.models import Assignment, Event, OutcomeRecord, Suggestion
from supervision import actions, queries
from supervision.models import ReviewCampaign, ReviewItem

THIS_YEAR = timezone.localdate().year
LAST_YEAR = THIS_YEAR - 1


def earlier_year(people):
    """Last year's items: two planned, one for reference, one solved, one planned and then solved in time."""
    on, reply_on = dt.date(LAST_YEAR, 3, 3), dt.date(LAST_YEAR, 4, 1)
    made = {
        "planned": people.replied(f"{LAST_YEAR}001", year=LAST_YEAR, outcome="planned", on=on, reply_on=reply_on),
        "planned2": people.replied(f"{LAST_YEAR}002", year=LAST_YEAR, outcome="planned", on=on, reply_on=reply_on),
        "reference": people.replied(f"{LAST_YEAR}003", year=LAST_YEAR, outcome="for_reference", on=on,
                                    reply_on=reply_on),
        "solved": people.replied(f"{LAST_YEAR}004", year=LAST_YEAR, on=on, reply_on=reply_on),
        "done_in_time": people.replied(f"{LAST_YEAR}005", year=LAST_YEAR, outcome="planned", on=on,
                                       reply_on=reply_on),
    }
    workflow.change_outcome(made["done_in_time"].assignments.get(), actor=people.leader, outcome="solved",
                            effective_on=dt.date(LAST_YEAR, 11, 1), note="年内完成")
    return made


def outcome_as_of(suggestion, day):
    record = OutcomeRecord.objects.filter(suggestion=suggestion, effective_on__lte=day).order_by(
        "-effective_on", "-pk").first()
    return record.outcome if record else None


def lookback(people):
    return actions.create_review(actor=people.office, kind=ReviewCampaign.Kind.LOOKBACK, year=THIS_YEAR,
                                 first_year=LAST_YEAR, last_year=LAST_YEAR, title="回头看")


def test_it_lists_the_lookback_candidates_as_of_the_end_of_last_year(people):
    made = earlier_year(people)
    campaign = lookback(people)
    items = {i.suggestion_id: i.outcome_before for i in campaign.items.all()}
    assert items == {made["planned"].pk: "planned", made["planned2"].pk: "planned",
                     made["reference"].pk: "for_reference"}
    assert campaign.cutoff == dt.date(LAST_YEAR, 12, 31)


def test_it_converts_reassigned_items_and_moves_the_reports_lookback_figures(people):
    made = earlier_year(people)
    campaign = lookback(people)
    today = timezone.localdate()

    def figures():
        from reports import queries as report

        params = report.Params(year=THIS_YEAR, as_of=today, lookback=(LAST_YEAR, LAST_YEAR))
        return report.annual(None, params)["lookback"]

    before = figures()
    assert (before["candidates"], before["converted_to_solved"]) == (3, 0)

    # The same department gets it back; another department gets a new assignment.
    same = campaign.items.get(suggestion=made["planned"])
    actions.reassign_review_item(same, actor=people.office, department=people.dept, note="重新交办")
    lead = Assignment.objects.get(suggestion=made["planned"])
    assert lead.state == "handling" and lead.due_date > today
    assert ReviewItem.objects.get(pk=same.pk).assignment == lead
    other = campaign.items.get(suggestion=made["reference"])
    actions.reassign_review_item(other, actor=people.office, department=people.dept2, note="改由公安分局办理")
    new = Assignment.objects.get(suggestion=made["reference"], department=people.dept2)
    assert new.role == "lead" and new.state == "pending"
    assert Suggestion.objects.get(pk=made["reference"].pk).state == "handling"
    assigned = Event.objects.filter(suggestion=made["reference"], kind=Event.Kind.ASSIGNED).last()
    assert assigned.data["supervision"] == "lookback" and assigned.data["department"] == people.dept2.name

    converted_on = today - dt.timedelta(days=3)
    actions.record_review_outcome(same, actor=people.office, outcome="solved", effective_on=converted_on,
                                  note="已完成改造")
    actions.record_review_outcome(other, actor=people.office, outcome="solved", effective_on=converted_on,
                                  note="已完成整治")
    for key in ("planned", "reference"):
        s = Suggestion.objects.get(pk=made[key].pk)
        assert s.outcome == "solved" and s.state == "replied"
        assert outcome_as_of(s, converted_on) == "solved"
        assert outcome_as_of(s, converted_on - dt.timedelta(days=1)) != "solved"  # the history is kept
    assert set(Assignment.objects.filter(suggestion=made["reference"]).values_list("outcome", flat=True)) == {
        "solved"}

    after = figures()
    assert (after["candidates"], after["converted_to_solved"]) == (3, 2)
    # As of a day before the conversion, the report still says what was true then.
    from reports import queries as report
    earlier = report.annual(None, report.Params(year=THIS_YEAR, as_of=converted_on - dt.timedelta(days=1),
                                                lookback=(LAST_YEAR, LAST_YEAR)))["lookback"]
    assert earlier["converted_to_solved"] == 0
    # Last year's own report is unchanged in its outcome counts as of its year end.
    last = report.annual(None, report.Params(year=LAST_YEAR, as_of=dt.date(LAST_YEAR, 12, 31)))
    assert last["outcomes"]["solved"]["count"] == 2


def test_it_records_the_department_reply_after_a_reassignment_too(people):
    """A department given the item again may reply again; that moves the outcome as well."""
    made = earlier_year(people)
    item = lookback(people).items.get(suggestion=made["planned2"])
    actions.reassign_review_item(item, actor=people.office, department=people.dept)
    lead = Assignment.objects.get(suggestion=made["planned2"])
    reply = workflow.draft_reply(lead, actor=people.handler, outcome="solved", body="已完成")
    workflow.sign_reply(reply, actor=people.leader, document_number="静建函〔2026〕9号")
    s = Suggestion.objects.get(pk=made["planned2"].pk)
    assert s.outcome == "solved" and s.state == "replied" and lead.replies.count() == 2


def test_it_reviews_this_years_open_promises(people):
    on, reply_on = dt.date(THIS_YEAR, 1, 5), dt.date(THIS_YEAR, 2, 2)
    planned = people.replied(f"{THIS_YEAR}001", year=THIS_YEAR, outcome="planned", on=on, reply_on=reply_on)
    going = people.replied(f"{THIS_YEAR}002", year=THIS_YEAR, outcome="in_progress", on=on, reply_on=reply_on)
    people.replied(f"{THIS_YEAR}003", year=THIS_YEAR, on=on, reply_on=reply_on)
    campaign = actions.create_review(actor=people.office, kind=ReviewCampaign.Kind.FOLLOWUP, year=THIS_YEAR,
                                     title="跟踪复查")
    assert set(campaign.items.values_list("suggestion_id", flat=True)) == {planned.pk, going.pk}
    item = campaign.items.get(suggestion=going)
    actions.record_review_note(item, actor=people.office, text="工程按计划推进")
    event = Event.objects.filter(suggestion=going).last()
    assert event.data["supervision"] == "followup" and "工程按计划推进" in event.detail
    with pytest.raises(workflow.WorkflowError):  # planned needs its date
        actions.record_review_outcome(item, actor=people.office, outcome="planned",
                                      effective_on=timezone.localdate(), note="延期")
    actions.record_review_outcome(item, actor=people.office, outcome="solved", effective_on=timezone.localdate(),
                                  note="已完工")
    assert Suggestion.objects.get(pk=going.pk).outcome == "solved"


def test_it_keeps_reviews_to_the_office(people):
    earlier_year(people)
    from django.core.exceptions import PermissionDenied

    with pytest.raises(PermissionDenied):
        actions.create_review(actor=people.leader, kind=ReviewCampaign.Kind.LOOKBACK, year=THIS_YEAR,
                              first_year=LAST_YEAR, last_year=LAST_YEAR, title="x")
    item = lookback(people).items.first()
    with pytest.raises(PermissionDenied):
        actions.record_review_outcome(item, actor=people.leader, outcome="solved",
                                      effective_on=timezone.localdate(), note="x")
    assert queries.review_candidates(ReviewCampaign.Kind.LOOKBACK, LAST_YEAR, LAST_YEAR,
                                     dt.date(LAST_YEAR, 12, 31)).count() == 3


def test_it_closes_a_reassigned_item_whose_outcome_stays(people):
    made = earlier_year(people)
    item = lookback(people).items.get(suggestion=made["planned"])
    actions.reassign_review_item(item, actor=people.office, department=people.dept)
    assert Suggestion.objects.get(pk=made["planned"].pk).state == "handling"
    records = OutcomeRecord.objects.filter(suggestion=made["planned"]).count()
    later = timezone.localdate() + dt.timedelta(days=200)
    actions.record_review_outcome(item, actor=people.office, outcome="planned", effective_on=timezone.localdate(),
                                  note="仍在计划中，已落实资金", completion_date=later)
    s = Suggestion.objects.get(pk=made["planned"].pk)
    assert s.state == "replied" and s.outcome == "planned"
    assert OutcomeRecord.objects.filter(suggestion=s).count() == records  # nothing changed in the history
    event = s.events.order_by("pk").last()
    assert event.data["supervision"] == "lookback" and "已落实资金" in event.detail
    with pytest.raises(workflow.WorkflowError):  # and, closed, the same outcome is refused
        actions.record_review_outcome(item, actor=people.office, outcome="planned",
                                      effective_on=timezone.localdate(), note="x", completion_date=later)
