"""Supervision's figures and lists, computed in the database: for the annual report and the pages.

The report (reports.queries) calls `recheck_summary` and `class_summary` with its own items; the
look-back's figures it computes itself from the outcome history, which `workflow.record_lookback_outcome`
writes.
"""
import datetime as dt

from django.conf import settings
from django.db.models import Count, Exists, OuterRef, Q, Subquery, Sum
from django.utils import timezone

from departments import scoping
from suggestions.choices import AssignmentRole, AssignmentState, Outcome, SuggestionState
from suggestions.models import Assignment, OutcomeRecord, Suggestion

from .models import (
    KeyProgressReport,
    RecheckFinding,
    RecheckMethod,
    RecheckResult,
    RecheckSample,
    ReviewCampaign,
    SimilarClass,
)

LOOKBACK_OUTCOMES = [Outcome.PLANNED, Outcome.FOR_REFERENCE]
FOLLOWUP_OUTCOMES = [Outcome.IN_PROGRESS, Outcome.PLANNED]
# Weeks (and any period of whole days) start on a Monday.
_PERIOD_EPOCH = dt.date(2001, 1, 1)


# --- the report's figures ---------------------------------------------------------------------

def _year_items(year, user):
    """The year's suggestions in `user`'s scope (None: the whole district)."""
    qs = Suggestion.objects.all() if user is None else scoping.suggestions(user)
    return qs.filter(year=year)


def recheck_summary(year, as_of=None, user=None, items=None):
    """One query: the year's items re-checked (by sampled item's year), as of a date (default today),
    in `user`'s scope (None: the whole district). The report passes its own `items` instead (its
    scope, source and as-of), so that a re-check counts among the items the report counts.

    {"campaigns", "sampled", "checked", "confirmed", "not_done", "reopened", "by_method": {method: findings}}
    — an item is sampled by `as_of` when its re-check was drawn by then, or when a finding on it is dated
    by then (findings may be recorded after the fact); "checked" items have a finding by `as_of`;
    "confirmed"/"not_done" count each item by its latest finding by then; "reopened" items were reopened
    by a "not done" finding dated by then; "by_method" counts findings.
    """
    as_of = as_of or timezone.localdate()
    items = _year_items(year, user) if items is None else items
    findings = RecheckFinding.objects.filter(sample=OuterRef("pk"), checked_on__lte=as_of)
    samples = RecheckSample.objects.filter(suggestion__in=items.values("pk")).filter(
        Q(campaign__created_at__date__lte=as_of) | Exists(findings))
    latest = Subquery(findings.order_by("-checked_on", "-pk").values("result")[:1])
    not_done_by_then = Exists(findings.filter(result=RecheckResult.NOT_DONE))
    # The findings are joined (one row per finding) to count them by method in the same query: the
    # counts of items are therefore distinct.
    dated = Q(findings__checked_on__lte=as_of)
    row = samples.annotate(latest=latest, not_done_by_then=not_done_by_then).aggregate(
        campaigns=Count("campaign", distinct=True),
        sampled=Count("pk", distinct=True),
        checked=Count("pk", distinct=True, filter=Q(latest__isnull=False)),
        confirmed=Count("pk", distinct=True, filter=Q(latest=RecheckResult.DONE)),
        not_done=Count("pk", distinct=True, filter=Q(latest=RecheckResult.NOT_DONE)),
        reopened=Count("pk", distinct=True, filter=Q(reopened=True, not_done_by_then=True)),
        **{f"method_{m}": Count("findings", filter=dated & Q(findings__method=m)) for m in RecheckMethod.values},
    )
    row["by_method"] = {m: row.pop(f"method_{m}") for m in RecheckMethod.values}
    return row


def class_summary(year, as_of=None, user=None, items=None):
    """One query: the classes of similar suggestions (一类事) the year's items were linked in by `as_of`
    (default today), and how many of the year's items are in them. `items` as in `recheck_summary`.

    {"classes", "items", "members"} — a class counts when, by `as_of`, it had at least two members, one
    of them (at least) among the items; "members" counts every member of those classes, of any year.
    """
    as_of = as_of or timezone.localdate()
    items = _year_items(year, user) if items is None else items
    linked = Q(members__added_at__date__lte=as_of)
    classes = (SimilarClass.objects
               .annotate(size=Count("members", filter=linked),
                         ours=Count("members", filter=linked & Q(members__suggestion__in=items.values("pk"))))
               .filter(size__gte=2, ours__gte=1))
    row = classes.aggregate(classes=Count("pk"), items=Sum("ours"), members=Sum("size"))
    return {key: row[key] or 0 for key in ("classes", "items", "members")}


def class_count(year, user=None):
    """How many classes of similar suggestions (一类事) the year's items were linked in."""
    return class_summary(year, user=user)["classes"]


def classed_items(year, user=None):
    """How many of the year's items are linked in a class of at least two."""
    return class_summary(year, user=user)["items"]


# --- re-check sampling --------------------------------------------------------------------------

def recheck_population(replied_from, replied_to):
    """The items a re-check may draw: solved now, and recorded as solved within the period
    (by a reply or a later change of outcome), replied and not reopened or withdrawn."""
    solved_in_period = OutcomeRecord.objects.filter(suggestion=OuterRef("pk"), outcome=Outcome.SOLVED,
                                                    effective_on__gte=replied_from, effective_on__lte=replied_to)
    return Suggestion.objects.filter(state=SuggestionState.REPLIED, outcome=Outcome.SOLVED).filter(
        Exists(solved_in_period))


# --- reviews ----------------------------------------------------------------------------------

def review_cutoff(kind, year, today=None):
    """The day a review reads its candidates' outcome on: the look-back, the end of last year
    (as the report does); a follow-up review, today."""
    if kind == ReviewCampaign.Kind.LOOKBACK:
        return dt.date(year, 1, 1) - dt.timedelta(days=1)
    return today or timezone.localdate()


def review_candidates(kind, first_year, last_year, cutoff):
    """The items of the years whose outcome on `cutoff` a review looks at, with it as `outcome_before`."""
    outcomes = LOOKBACK_OUTCOMES if kind == ReviewCampaign.Kind.LOOKBACK else FOLLOWUP_OUTCOMES
    # The semi-join keeps the per-row look-up to items that ever had such an outcome by then.
    ever = Exists(OutcomeRecord.objects.filter(suggestion=OuterRef("pk"), effective_on__lte=cutoff,
                                               outcome__in=outcomes))
    return (Suggestion.objects.filter(year__gte=first_year, year__lte=last_year, assigned_on__lte=cutoff)
            .exclude(state=SuggestionState.WITHDRAWN).filter(ever)
            .annotate(outcome_before=OutcomeRecord.in_force(cutoff)).filter(outcome_before__in=outcomes))


# --- key suggestions --------------------------------------------------------------------------

def period_of(day, days=None):
    """(first day, last day) of the reporting period holding `day`: weeks from Monday by default."""
    days = days or settings.KEY_REPORT_PERIOD_DAYS
    start = _PERIOD_EPOCH + dt.timedelta(days=(day - _PERIOD_EPOCH).days // days * days)
    return start, start + dt.timedelta(days=days - 1)


def _open_leads():
    return Assignment.objects.filter(suggestion=OuterRef("pk"), role=AssignmentRole.LEAD,
                                     state__in=[AssignmentState.PENDING, AssignmentState.HANDLING,
                                                AssignmentState.REHANDLING])


def key_counts(items, today=None):
    """One query: how many of `items` there are, have this period's report in, are overdue.

    The conditions are written out, not read from `key_items`' annotations: an aggregate over
    annotations makes Django wrap the query, and it then drops an `Exists` it thinks unused.
    """
    today = today or timezone.localdate()
    start, _end = period_of(today)
    reported = Exists(KeyProgressReport.objects.filter(suggestion=OuterRef("pk"), period_start=start))
    overdue = Exists(_open_leads().filter(due_date__lt=today))
    return items.model.objects.filter(pk__in=items.values("pk")).aggregate(
        total=Count("pk"), reported=Count("pk", filter=Q(reported)), overdue=Count("pk", filter=Q(overdue)))


def key_items(user, year=None, leader=None, today=None):
    """The key suggestions `user` may see, with `last_report` (the end of the latest period reported),
    `reported` (this period's report is in) and `due_date` (the earliest open lead deadline, if any)."""
    today = today or timezone.localdate()
    start, _end = period_of(today)
    qs = scoping.suggestions(user).filter(is_key=True).exclude(state=SuggestionState.WITHDRAWN)
    if year:
        qs = qs.filter(year=year)
    if leader:
        qs = qs.filter(supervising_leader=leader)
    reports = KeyProgressReport.objects.filter(suggestion=OuterRef("pk"))
    return (qs.select_related("lead_deputy")
            .annotate(last_report=Subquery(reports.order_by("-period_end").values("period_end")[:1]),
                      reported=Exists(reports.filter(period_start=start)),
                      due_date=Subquery(_open_leads().order_by("due_date").values("due_date")[:1]))
            .order_by("-year", "number"))
