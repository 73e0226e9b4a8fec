"""The annual report's figures, computed in the database as of a date.

Definitions: DOMAIN.md "What the annual report counts"; the shape: CONTRACT.md "Report JSON".

As of a date means from the history, not today's row: an item counts when it was assigned on or before
`as_of` and not withdrawn by then; it is replied when its first reply is dated on or before it; its
outcome is the latest `OutcomeRecord` in force on that date and its ratings the latest `Feedback`
recorded by then.

A report costs a fixed number of queries whatever the data size, one scan per kind of grouping:

1. the year's items grouped by (category, street, source, outcome as of): totals, outcomes,
   by_category, by_street and by_source are sums over these groups, whose number is bounded by the
   reference data, never by the number of suggestions;
2. the items grouped by (ratings as of, month of the first reply): the satisfaction table and the
   replies per month (at most 17 × 13 groups);
3. the previous year's items, as of the same day a year earlier, grouped by (outcome as of, ratings
   as of): its headline figures (at most 5 × 17 groups);
4. the items joined to their assignments, grouped by (department, outcome as of): by_department;
5. the look-back, when asked for;
6. and 7. the sampled re-checks and the classes of similar suggestions (`supervision.queries`), among
   the year's items counted;
and the names of the categories, streets and departments met (a few dozen rows each).

The "as of" values are correlated subqueries (`Subquery`/`OuterRef`) written once per query: grouping
by them lets the database evaluate them once per row (Django groups by select position), and a `Case`
skips the look-up for items not replied yet. Indexes that make each look-up an index-only probe:
OutcomeRecord (suggestion, -effective_on, -id) INCLUDE (outcome), Feedback (suggestion, -recorded_on,
-id) INCLUDE (result, attitude).
"""
import contextlib
import datetime as dt
from collections import Counter, defaultdict
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction

from django.db import connection, transaction
from django.db.models import Case, Count, OuterRef, Q, Subquery, Value, When
from django.db.models.functions import Concat, TruncMonth

from departments import scoping
from departments.models import Department, Street
from suggestions.choices import ACTIVE_ASSIGNMENT_STATES, AssignmentRole, Outcome, Rating, Source, SuggestionState
from suggestions.models import Category, Feedback, OutcomeRecord, Suggestion
from supervision import queries as supervision_queries

OUTCOMES = list(Outcome.values)
RATINGS = list(Rating.values)
ALL_SOURCES = "all"
LOOKBACK_OUTCOMES = [Outcome.PLANNED, Outcome.FOR_REFERENCE]


@dataclass(frozen=True)
class Params:
    """What a report is asked for: a year, as of a date, optionally one source and a look-back range."""

    year: int
    as_of: dt.date
    source: str | None = None
    lookback: tuple[int, int] | None = None

    def __post_init__(self):
        if self.source is not None and self.source not in Source.values:
            raise ValueError(f"unknown source {self.source!r}")
        if self.lookback is not None and self.lookback[0] > self.lookback[1]:
            raise ValueError("the look-back range must run forwards")


def percent(part, whole):
    """`part` of `whole` in percent, rounded half up to one decimal from the exact ratio; None over nothing.

    Computed on fractions, so 1/16 is exactly 6.25 and rounds to 6.3 (a float would say 6.2).
    """
    if not whole:
        return None
    tenths = (Fraction(part * 1000, whole) + Fraction(1, 2)) // 1
    return Decimal(tenths).scaleb(-1)


def year_earlier(day):
    """The same day a year before (28 February for a 29 February)."""
    try:
        return day.replace(year=day.year - 1)
    except ValueError:
        return day.replace(year=day.year - 1, day=28)


# --- the building blocks ----------------------------------------------------------------------

def ratings_on(day):
    """The deputy's latest ratings recorded by `day`, as "result attitude" (one look-up for both)."""
    return Subquery(Feedback.objects.filter(suggestion=OuterRef("pk"), recorded_on__lte=day)
                    .order_by("-recorded_on", "-pk").annotate(pair=Concat("result", Value(" "), "attitude"))
                    .values("pair")[:1])


def replied_outcome_on(day, condition=None):
    """The outcome on `day` of an item replied by then (and meeting `condition`); NULL, and not looked
    up, for the others."""
    replied = Q(first_replied_on__lte=day)
    return Case(When(replied & condition if condition else replied, then=OutcomeRecord.in_force(day)), default=None)


def scope(user):
    """The suggestions the report may count: the user's scope; None is the system itself (the command)."""
    return Suggestion.objects.all() if user is None else scoping.suggestions(user)


def counted(as_of, source=None):
    """When an item counts on `as_of`: assigned by then, not withdrawn by then, of the source if one is given."""
    condition = Q(assigned_on__lte=as_of) & (~Q(state=SuggestionState.WITHDRAWN) | Q(withdrawn_on__gt=as_of))
    if source:
        condition &= Q(source=source)
    return condition


def items(user, year, as_of, source=None):
    """The year's items counted on `as_of`, within the user's scope."""
    return scope(user).filter(counted(as_of, source), year=year)


def _counts(as_of):
    replied = Q(first_replied_on__lte=as_of)
    return {
        "total": Count("pk"),
        "replied": Count("pk", filter=replied),
        "on_time": Count("pk", filter=replied & Q(replied_on_time=True)),
        "key": Count("pk", filter=Q(is_key=True)),
        "public": Count("pk", filter=replied & Q(is_public=True)),
    }


def _outcome_figures(counts, replied):
    outcomes = {o: {"count": counts[o], "percent": percent(counts[o], replied)} for o in OUTCOMES}
    both = counts[Outcome.SOLVED] + counts[Outcome.IN_PROGRESS]
    return outcomes, {"count": both, "percent": percent(both, replied)}


def _satisfaction(rows):
    """Counts of each rating and the two shares; 未表态 is left out of both denominators."""
    result, attitude = Counter(), Counter()
    for row in rows:
        if row["pair"]:
            r, a = row["pair"].split(" ")
            result[r] += row["n"]
            attitude[a] += row["n"]
    figures = {}
    for name, counter in (("result", result), ("attitude", attitude)):
        rated = counter[Rating.SATISFIED] + counter[Rating.BASICALLY_SATISFIED] + counter[Rating.DISSATISFIED]
        figures[name] = {
            **{r: counter[r] for r in RATINGS},
            "satisfied_rate": percent(counter[Rating.SATISFIED], rated),
            "satisfied_or_basic_rate": percent(counter[Rating.SATISFIED] + counter[Rating.BASICALLY_SATISFIED],
                                               rated),
        }
    return figures


def _ratings_and_months(qs, as_of):
    """Query: the items grouped by their ratings in force on `as_of` and the month of their first reply
    (at most 17 × 13 groups): the satisfaction table and the replies per month from one scan.

    Returns (ratings rows: pair and n; month rows: month and replied, in order).
    """
    rows = (qs.annotate(pair=ratings_on(as_of), month=TruncMonth("first_replied_on"))
            .values_list("pair", "month")
            .annotate(n=Count("pk"), replied=Count("pk", filter=Q(first_replied_on__lte=as_of))).order_by())
    ratings, months = Counter(), Counter()
    for pair, month, n, replied in rows:
        ratings[pair] += n
        if replied:
            months[month] += replied
    return ([{"pair": pair, "n": n} for pair, n in ratings.items()],
            [{"month": month.strftime("%Y-%m"), "replied": months[month]} for month in sorted(months)])


def _groups(qs, as_of):
    """Query: the items grouped by category, street, source and outcome on `as_of`, with every count.

    Grouped by ids, not names: hashing integers is cheap where sorting collated text is not.
    """
    return list(qs.annotate(outcome_as_of=replied_outcome_on(as_of))
                .values("category_id", "street_id", "source", "outcome_as_of")
                .annotate(**_counts(as_of)).order_by())


def _names(model):
    """Query: {pk: (order, name)} of a reference table (a few dozen rows)."""
    return {pk: (order, name) for pk, order, name in model.objects.values_list("pk", "order", "name")}


def _headline(params, groups, ratings):
    """The top-level figures from the grouped rows: sums over a handful of groups."""
    sums = Counter()
    for g in groups:
        for key in ("total", "replied", "on_time", "key", "public"):
            sums[key] += g[key]
        if g["outcome_as_of"]:
            sums[g["outcome_as_of"]] += g["replied"]
    outcomes, both = _outcome_figures(sums, sums["replied"])
    return {
        "year": params.year,
        "as_of": params.as_of,
        "source": params.source or ALL_SOURCES,
        "total": sums["total"],
        "replied": sums["replied"],
        "replied_on_time": sums["on_time"],
        "on_time_rate": percent(sums["on_time"], sums["replied"]),
        "outcomes": outcomes,
        "solved_or_in_progress": both,
        "satisfaction": _satisfaction(ratings),
        "key_suggestions": sums["key"],
        "public": sums["public"],
        "disclosure_rate": percent(sums["public"], sums["replied"]),
    }


def _by_dimension(groups, key, model, label):
    """by_category / by_street rows: every entry with at least one item, in reference-data order."""
    table = defaultdict(Counter)
    for g in groups:
        if g[key] is None:
            continue  # no category or street given: not an entry of its own
        row = table[g[key]]
        row["total"] += g["total"]
        row["replied"] += g["replied"]
        if g["outcome_as_of"]:
            row[g["outcome_as_of"]] += g["replied"]
    names = _names(model)
    rows = []
    for pk in sorted(table, key=names.__getitem__):
        row = table[pk]
        both = row[Outcome.SOLVED] + row[Outcome.IN_PROGRESS]
        rows.append({label: names[pk][1], "total": row["total"], "solved": row[Outcome.SOLVED],
                     "replied": row["replied"], "solved_percent": percent(row[Outcome.SOLVED], row["replied"]),
                     "solved_or_in_progress": both})
    return rows


def _by_source(groups):
    table = defaultdict(Counter)
    for g in groups:
        row = table[g["source"]]
        row["total"] += g["total"]
        row["replied"] += g["replied"]
        row["on_time"] += g["on_time"]
        if g["outcome_as_of"] in (Outcome.SOLVED, Outcome.IN_PROGRESS):
            row["both"] += g["replied"]
        if g["outcome_as_of"] == Outcome.SOLVED:
            row["solved"] += g["replied"]
    return [{"source": s, "total": table[s]["total"], "replied": table[s]["replied"],
             "solved_or_in_progress": table[s]["both"],
             "solved_or_in_progress_percent": percent(table[s]["both"], table[s]["replied"]),
             "on_time": table[s]["on_time"], "solved": table[s]["solved"]}
            for s in Source.values if table[s]["total"]]


def _by_department(user, params):
    """Query: per department, its lead and co items; replies, on time and outcomes of the lead items.

    A department's items are its assignments made by `as_of` and not returned by then; the reply and
    outcome are the item's own (several lead departments are folded into one outcome by the workflow).
    A handler or leader gets the rows of their own departments only (`scoping.departments`).
    """
    as_of = params.as_of
    replied = Q(first_replied_on__lte=as_of)
    lead = Q(assignments__role=AssignmentRole.LEAD)
    sees_everything = user is None or scoping.access(user).sees_everything
    active = Q(assignments__state__in=ACTIVE_ASSIGNMENT_STATES) | Q(assignments__returned_on__gt=as_of)
    qs = items(user, params.year, as_of, params.source).filter(
        active, assignments__assigned_on__lte=as_of,
        **({} if sees_everything else {"assignments__department__in": scoping.departments(user)}))
    # One filter() call: the joined assignment is the same row in every condition and count below.
    rows = list(
        qs.annotate(outcome_as_of=replied_outcome_on(as_of, lead))
        .values("assignments__department_id", "outcome_as_of")
        .annotate(lead=Count("pk", filter=lead), co=Count("pk", filter=~lead),
                  replied=Count("pk", filter=lead & replied),
                  on_time=Count("pk", filter=lead & replied & Q(replied_on_time=True)))
        .order_by())
    table = defaultdict(Counter)
    for r in rows:
        row = table[r["assignments__department_id"]]
        for key in ("lead", "co", "replied", "on_time"):
            row[key] += r[key]
        if r["outcome_as_of"]:
            row[r["outcome_as_of"]] += r["replied"]
    names = _names(Department)
    return [{"department": names[pk][1], "lead": table[pk]["lead"], "co": table[pk]["co"],
             "replied": table[pk]["replied"], "on_time": table[pk]["on_time"],
             **{o: table[pk][o] for o in OUTCOMES}}
            for pk in sorted(table, key=names.__getitem__)]


def _lookback(user, params):
    """Query: earlier years' items still planned or for reference at the end of last year, and how
    many of them are solved on `as_of`."""
    first, last = params.lookback
    cutoff = dt.date(params.year, 1, 1) - dt.timedelta(days=1)
    qs = scope(user).filter(counted(params.as_of, params.source), year__gte=first, year__lte=last)
    rows = (qs.alias(before=OutcomeRecord.in_force(cutoff))
            .filter(before__in=LOOKBACK_OUTCOMES)
            .annotate(now=OutcomeRecord.in_force(params.as_of)).values("now").annotate(n=Count("pk")).order_by())
    counts = {r["now"]: r["n"] for r in rows}
    candidates = sum(counts.values())
    converted = counts.get(Outcome.SOLVED, 0)
    return {"years": [first, last], "candidates": candidates, "converted_to_solved": converted,
            "converted_percent": percent(converted, candidates)}


def _supervision(qs, params):
    """Two queries: the year's sampled re-checks (抽样复查) and classes of similar suggestions (一类事),
    among the items the report counts (its scope and source), from the records dated by `as_of`."""
    rechecks = supervision_queries.recheck_summary(params.year, params.as_of, items=qs)
    rechecks["confirmed_percent"] = percent(rechecks["confirmed"], rechecks["checked"])
    return {"rechecks": rechecks, "classes": supervision_queries.class_summary(params.year, params.as_of, items=qs)}


# --- the report -------------------------------------------------------------------------------

def headline(user, params):
    """One query: the top-level figures alone (the previous year's column), from the items grouped by
    their outcome and ratings on `as_of` (at most 5 × 17 groups)."""
    qs = items(user, params.year, params.as_of, params.source)
    groups = list(qs.annotate(outcome_as_of=replied_outcome_on(params.as_of), pair=ratings_on(params.as_of))
                  .values("outcome_as_of", "pair").annotate(**_counts(params.as_of)).order_by())
    return _headline(params, groups, [{"pair": g["pair"], "n": g["total"]} for g in groups])


@contextlib.contextmanager
def _without_jit():
    """PostgreSQL's JIT compiler takes 30–120 ms to compile each of these short aggregates (their
    per-row look-ups push the estimated cost over jit_above_cost) and wins nothing back; measured at
    100,000 suggestions it was an eighth of the report's time. Off for the report's transaction only."""
    if connection.vendor != "postgresql":
        yield
        return
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL jit = off")
        yield


def annual(user, params):
    """The whole report for `user`'s scope (None: the whole district), keyed as CONTRACT.md's JSON.

    Percentages are `Decimal`s and `as_of` a date; `as_json` turns them into JSON's numbers and text.
    """
    with _without_jit():
        return _annual(user, params)


def _annual(user, params):
    qs = items(user, params.year, params.as_of, params.source)
    groups = _groups(qs, params.as_of)
    ratings, months = _ratings_and_months(qs, params.as_of)
    report = _headline(params, groups, ratings)
    report["by_department"] = _by_department(user, params)
    report["by_category"] = _by_dimension(groups, "category_id", Category, "category")
    report["by_street"] = _by_dimension(groups, "street_id", Street, "street")
    report["by_source"] = _by_source(groups)
    report["by_month"] = months
    if params.lookback:
        report["lookback"] = _lookback(user, params)
    report["supervision"] = _supervision(qs, params)
    previous = Params(params.year - 1, year_earlier(params.as_of), params.source)
    report["previous_year"] = headline(user, previous)
    return report


def as_json(value):
    """The report with JSON's types: percentages as numbers with one decimal, dates as YYYY-MM-DD."""
    if isinstance(value, dict):
        return {k: as_json(v) for k, v in value.items()}
    if isinstance(value, list):
        return [as_json(v) for v in value]
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, dt.date):
        return value.isoformat()
    return value
