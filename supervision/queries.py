"""Supervision's figures and lists, computed in the database: for the annual report and the pages.

The report (reports.queries) calls `recheck_summary(year)` and `class_count(year)`; the look-back's
figures it computes itself from the outcome history, which `workflow.record_lookback_outcome` writes.
"""
import datetime as dt

from django.conf import settings
from django.db.models import Count, Exists, OuterRef, Q, Subquery
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
    SimilarClassMember,
)

LOOKBACK_OUTCOMES = [Outcome.PLANNED, Outcome.FOR_REFERENCE]
FOLLOWUP_OUTCOMES = [Outcome.IN_PROGRESS, Outcome.PLANNED]
# Weeks (and any period of whole days) start on a Monday.
_PERIOD_EPOCH = dt.date(2001, 1, 1)


def outcome_on(day, suggestion_ref="pk"):
    """The suggestion's outcome in force on `day`: its latest outcome record dated by then.

    The same definition as the annual report's, so that a review's candidates are the report's.
    """
    return Subquery(OutcomeRecord.objects.filter(suggestion=OuterRef(suggestion_ref), effective_on__lte=day)
                    .order_by("-effective_on", "-pk").values("outcome")[:1])


# --- the report's figures ---------------------------------------------------------------------

def recheck_summary(year, as_of=None, user=None):
    """The year's items re-checked (by sampled item's year), as of a date (default today), in `user`'s
    scope (None: the whole district).

    {"campaigns", "sampled", "checked", "confirmed", "not_done", "reopened", "by_method": {method: findings}}
    — "checked" items have a finding by `as_of`; "confirmed"/"not_done" count each item by its latest one.
    """
    as_of = as_of or timezone.localdate()
    samples = RecheckSample.objects.filter(suggestion__year=year, campaign__created_at__date__lte=as_of)
    if user is not None:
        samples = samples.filter(suggestion__in=scoping.suggestions(user))
    findings = RecheckFinding.objects.filter(sample=OuterRef("pk"), checked_on__lte=as_of)
    latest = Subquery(findings.order_by("-checked_on", "-pk").values("result")[:1])
    row = samples.annotate(latest=latest).aggregate(
        campaigns=Count("campaign", distinct=True),
        sampled=Count("pk"),
        checked=Count("pk", filter=Q(latest__isnull=False)),
        confirmed=Count("pk", filter=Q(latest=RecheckResult.DONE)),
        not_done=Count("pk", filter=Q(latest=RecheckResult.NOT_DONE)),
        reopened=Count("pk", filter=Q(reopened=True)),
    )
    methods = dict(RecheckFinding.objects.filter(sample__in=samples.values("pk"), checked_on__lte=as_of)
                   .values_list("method").annotate(n=Count("pk")).order_by())
    row["by_method"] = {m: methods.get(m, 0) for m in RecheckMethod.values}
    return row


def classes_of_year(year, user=None):
    """Classes of at least two suggestions, one of them (at least) of `year` (and in `user`'s scope)."""
    of_year = SimilarClassMember.objects.filter(klass=OuterRef("pk"), suggestion__year=year)
    if user is not None:
        of_year = of_year.filter(suggestion__in=scoping.suggestions(user))
    return SimilarClass.objects.annotate(size=Count("members")).filter(size__gte=2).filter(Exists(of_year))


def class_count(year, user=None):
    """How many classes of similar suggestions (一类事) the year's items were linked in."""
    return classes_of_year(year, user).count()


def classed_items(year, user=None):
    """How many of the year's items are linked in a class of at least two."""
    members = SimilarClassMember.objects.filter(suggestion__year=year,
                                                klass__in=classes_of_year(year).values("pk"))
    if user is not None:
        members = members.filter(suggestion__in=scoping.suggestions(user))
    return members.count()


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
            .annotate(outcome_before=outcome_on(cutoff)).filter(outcome_before__in=outcomes))


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
