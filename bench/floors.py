"""The floors: what the least possible work costs, measured beside the product's own.

- `suggestion_list`: the list page's 25 rows from ONE raw SQL query (scope, filters, search, order,
  lead departments and open deadlines), rendered as the list renders them, in the same page
  (base.html, its header and context processors) behind the same middleware. The list page's
  ratio to it is the cost of how the page gets its data: filters, count, ORM, prefetches, the
  filter form. The target of issue 9 is on this ratio.
- `suggestion_list_bare`: the same query written out as a bare HTML table, no template: the
  ratio to it adds Django's page rendering (reported, no target).
- `page`: an empty page of the product (base.html, header, session): the dashboards' floor.
- `outcome_table`: the annual report's outcome table as of a date, in one GROUP BY.
- `report_tables` (PostgreSQL; for information, no target): every table of the annual report in one
  hand-written statement, checked figure for figure against the report (`measure.check_report_tables`).

Only for the benchmark: `bench.urls` mounts the views beside the product's URLs.
"""
from django.contrib.auth.decorators import login_required
from django.db import connection
from django.http import HttpResponse
from django.template import engines
from django.utils import timezone
from django.utils.html import escape

from departments.scoping import access
from suggestions.choices import Outcome, SuggestionState

# Scope, from the user's access that every page of the product computes for its header anyway: the
# office sees everything; anyone else the suggestions of their departments' assignments (any state,
# as `departments.scoping.suggestions`): on PostgreSQL from the GIN-indexed column of each
# suggestion's departments (migration suggestions 0007), as the product asks; on SQLite through an
# uncorrelated IN (...) subquery.
LIST_SQL = """
SELECT s.id, s.number, s.title, s.is_key, d.name, s.state, s.outcome, ({leads}) AS leads, ({due}) AS due
  FROM suggestions_suggestion s JOIN suggestions_deputy d ON d.id = s.lead_deputy_id
 WHERE TRUE {scope}
   {filters}
 ORDER BY s.year DESC, s.number ASC, s.id ASC
 LIMIT 25
"""
SCOPE = {
    "postgresql": "AND s.department_ids && %(departments)s::bigint[]",
    "sqlite": "AND s.id IN (SELECT a.suggestion_id FROM suggestions_assignment a WHERE a.department_id IN ({ids}))",
}
# The lead departments, and the deadlines of those that have not replied, joined by '|'.
LEADS = {
    "postgresql": """SELECT string_agg({column}, '|' ORDER BY a.id)
                       FROM suggestions_assignment a JOIN departments_department dep ON dep.id = a.department_id
                      WHERE a.suggestion_id = s.id AND a.role = 'lead' AND a.state <> 'returned' {extra}""",
    # SQLite (the smoke test): group_concat keeps the order of an ordered subquery.
    "sqlite": """SELECT group_concat(v, '|') FROM (
                   SELECT {column} AS v FROM suggestions_assignment a
                     JOIN departments_department dep ON dep.id = a.department_id
                    WHERE a.suggestion_id = s.id AND a.role = 'lead' AND a.state <> 'returned' {extra}
                    ORDER BY a.id)""",
}
DUE_COLUMN = {"postgresql": "to_char(a.due_date, 'YYYY-MM-DD')", "sqlite": "a.due_date"}
FILTERS = {
    "year": "AND s.year = %(year)s",
    "source": "AND s.source = %(source)s",
    "state": "AND s.state = %(state)s",
    "outcome": "AND s.outcome = %(outcome)s",
    "q": "AND (s.number {like} %(q)s ESCAPE '\\' OR s.title {like} %(q)s ESCAPE '\\' "
         "OR d.name {like} %(q)s ESCAPE '\\')",
}


def like_pattern(text):
    """`%text%` with LIKE's own wildcards taken literally, as Django's `icontains` does."""
    text = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{text}%"


def list_rows(user, params):
    """The 25 rows of the list for these filters (year, source, state, outcome, q), one query:
    (pk, number, title, is_key, deputy, state, outcome, lead departments, open deadlines)."""
    vendor = connection.vendor
    a = access(user)
    departments = sorted(a.department_ids)
    values = {"departments": departments}
    scope = "" if a.sees_everything else SCOPE[vendor].format(ids=", ".join(map(str, departments)) or "NULL")
    # ILIKE is PostgreSQL's; SQLite's LIKE ignores case already (for the ASCII letters that have one).
    like = "ILIKE" if vendor == "postgresql" else "LIKE"
    filters = []
    for name, clause in FILTERS.items():
        value = (params.get(name) or "").strip()
        if value:
            filters.append(clause.replace("{like}", like))
            values[name] = like_pattern(value[:100]) if name == "q" else (int(value) if name == "year" else value)
    sql = LIST_SQL.format(
        leads=LEADS[vendor].format(column="dep.name", extra=""),
        due=LEADS[vendor].format(column=DUE_COLUMN[vendor], extra="AND a.state <> 'replied'"),
        scope=scope, filters="\n   ".join(filters))
    with connection.cursor() as cursor:
        cursor.execute(sql, values)
        return cursor.fetchall()


STATES, OUTCOMES = dict(SuggestionState.choices), dict(Outcome.choices)
# The list page's table (templates/suggestions/list.html), in the product's page.
LIST_TEMPLATE = """{% extends "base.html" %}{% load i18n %}
{% block title %}{% translate "Suggestions" %}{% endblock %}
{% block content %}
<h1>{% translate "Suggestions" %}</h1>
<div class="table-wrap">
<table>
  <thead><tr><th>{% translate "Number" %}</th><th>{% translate "Title" %}</th>
  <th class="hide-phone">{% translate "Lead deputy" %}</th><th class="hide-phone">{% translate "Lead department" %}</th>
  <th>{% translate "State" %}</th><th>{% translate "Outcome" %}</th><th class="hide-phone">{% translate "Due" %}</th>
  </tr></thead>
  <tbody>
  {% for s in rows %}
  <tr>
    <td>{{ s.number }}</td>
    <td><a href="{% url 'suggestions:detail' s.pk %}">{{ s.title }}</a>
      {% if s.is_key %} <span class="tag key">{% translate "Key" %}</span>{% endif %}</td>
    <td class="hide-phone">{{ s.deputy }}</td>
    <td class="hide-phone">{% for name in s.leads %}{{ name }}<br>{% endfor %}</td>
    <td>{{ s.state }}</td>
    <td>{% if s.outcome %}<span class="tag {{ s.outcome }}">{{ s.outcome_label }}</span>{% endif %}</td>
    <td class="hide-phone">{% for day in s.due %}{{ day }}
      {% if day < today %} <span class="tag overdue">{% translate "Overdue" %}</span>{% endif %}<br>{% endfor %}</td>
  </tr>
  {% endfor %}
  </tbody>
</table>
</div>
{% endblock %}"""
PAGE_TEMPLATE = """{% extends "base.html" %}"""
_templates = {}


def _template(source):
    if source not in _templates:
        _templates[source] = engines["django"].from_string(source)
    return _templates[source]


@login_required
def suggestion_list(request):
    rows = [{"pk": pk, "number": number, "title": title, "is_key": is_key, "deputy": deputy,
             "state": STATES.get(state, state), "outcome": outcome, "outcome_label": OUTCOMES.get(outcome, ""),
             "leads": leads.split("|") if leads else [], "due": due.split("|") if due else []}
            for pk, number, title, is_key, deputy, state, outcome, leads, due
            in list_rows(request.user, request.GET)]
    return HttpResponse(_template(LIST_TEMPLATE).render(
        {"rows": rows, "today": timezone.localdate().isoformat()}, request))


@login_required
def suggestion_list_bare(request):
    cells = "".join(
        f'<tr><td>{escape(number)}</td><td><a href="/suggestions/{pk}/">{escape(title)}</a></td>'
        f"<td>{escape(deputy)}</td><td>{escape(leads or '')}</td><td>{escape(state)}</td>"
        f"<td>{escape(outcome)}</td><td>{escape(due or '')}</td></tr>"
        for pk, number, title, _key, deputy, state, outcome, leads, due in list_rows(request.user, request.GET))
    return HttpResponse(f"<!DOCTYPE html><table>{cells}</table>")


@login_required
def page(request):
    return HttpResponse(_template(PAGE_TEMPLATE).render({}, request))


OUTCOME_TABLE_SQL = """
SELECT o.outcome, count(*)
  FROM suggestions_suggestion s
  LEFT JOIN LATERAL (
        SELECT r.outcome FROM suggestions_outcomerecord r
         WHERE r.suggestion_id = s.id AND r.effective_on <= %(as_of)s
         ORDER BY r.effective_on DESC, r.id DESC LIMIT 1) o ON s.first_replied_on <= %(as_of)s
 WHERE s.year = %(year)s AND s.assigned_on <= %(as_of)s AND (s.state <> 'withdrawn' OR s.withdrawn_on > %(as_of)s)
 GROUP BY o.outcome
"""
# SQLite (the smoke test) has no LATERAL: the same as a correlated subquery.
OUTCOME_TABLE_SQL_PORTABLE = """
SELECT o, count(*) FROM (
  SELECT CASE WHEN s.first_replied_on <= %(as_of)s THEN (
           SELECT r.outcome FROM suggestions_outcomerecord r
            WHERE r.suggestion_id = s.id AND r.effective_on <= %(as_of)s
            ORDER BY r.effective_on DESC, r.id DESC LIMIT 1) END AS o
    FROM suggestions_suggestion s
   WHERE s.year = %(year)s AND s.assigned_on <= %(as_of)s AND (s.state <> 'withdrawn' OR s.withdrawn_on > %(as_of)s)) t
 GROUP BY o
"""


def outcome_table(year, as_of):
    """{outcome or None (not replied): count} of the year's items counted on `as_of`, one query."""
    sql = OUTCOME_TABLE_SQL if connection.vendor == "postgresql" else OUTCOME_TABLE_SQL_PORTABLE
    with connection.cursor() as cursor:
        cursor.execute(sql, {"year": year, "as_of": as_of})
        return dict(cursor.fetchall())


# For information beside the target (which compares the whole report with `outcome_table`, one of its
# tables): every table of the report's page in hand-written SQL, in one statement on PostgreSQL. The
# year's and the previous year's items are read once, each with its outcome and ratings in force on
# its own date; the tables are GROUPING SETS over them, and the departments' a join to the year's
# assignments. Rows: (set, year, category, street, source, outcome, ratings, month, department, n1…n5),
# `set` telling the grouping apart: 3 by category, street, source and outcome; 5 by ratings; 6 by
# month; -1 by department (lead, co, replied, on time).
REPORT_TABLES_SQL = """
WITH items AS MATERIALIZED (
  SELECT s.id, s.year, s.category_id, s.street_id, s.source, s.is_key, s.is_public, s.replied_on_time,
         date_trunc('month', s.first_replied_on)::date AS month, r.replied, o.outcome, f.pair
    FROM suggestions_suggestion s
   CROSS JOIN LATERAL (SELECT CASE WHEN s.year = %(year)s THEN %(as_of)s::date ELSE %(previous_as_of)s::date END
                       AS as_of) d
   CROSS JOIN LATERAL (SELECT s.first_replied_on <= d.as_of AS replied) r
    LEFT JOIN LATERAL (SELECT o.outcome FROM suggestions_outcomerecord o
                        WHERE o.suggestion_id = s.id AND o.effective_on <= d.as_of
                        ORDER BY o.effective_on DESC, o.id DESC LIMIT 1) o ON r.replied
    LEFT JOIN LATERAL (SELECT f.result || ' ' || f.attitude AS pair FROM suggestions_feedback f
                        WHERE f.suggestion_id = s.id AND f.recorded_on <= d.as_of
                        ORDER BY f.recorded_on DESC, f.id DESC LIMIT 1) f ON TRUE
   WHERE s.year IN (%(year)s, %(year)s - 1) AND s.assigned_on <= d.as_of
     AND (s.state <> 'withdrawn' OR s.withdrawn_on > d.as_of)
)
SELECT GROUPING(category_id, pair, month), year, category_id, street_id, source, outcome, pair, month, NULL::bigint,
       count(*), count(*) FILTER (WHERE replied), count(*) FILTER (WHERE replied AND replied_on_time),
       count(*) FILTER (WHERE is_key), count(*) FILTER (WHERE replied AND is_public)
  FROM items
 GROUP BY GROUPING SETS ((year, category_id, street_id, source, outcome), (year, pair), (year, month))
UNION ALL
SELECT -1, %(year)s, NULL, NULL, NULL, CASE WHEN a.role = 'lead' THEN i.outcome END, NULL, NULL, a.department_id,
       count(*) FILTER (WHERE a.role = 'lead'), count(*) FILTER (WHERE a.role <> 'lead'),
       count(*) FILTER (WHERE a.role = 'lead' AND i.replied),
       count(*) FILTER (WHERE a.role = 'lead' AND i.replied AND i.replied_on_time), 0
  FROM items i JOIN suggestions_assignment a ON a.suggestion_id = i.id
 WHERE i.year = %(year)s AND a.assigned_on <= %(as_of)s AND (a.state <> 'returned' OR a.returned_on > %(as_of)s)
 GROUP BY a.department_id, CASE WHEN a.role = 'lead' THEN i.outcome END
"""


def report_tables(year, as_of, previous_as_of):
    """The rows of REPORT_TABLES_SQL (PostgreSQL only: LATERAL and GROUPING SETS)."""
    with connection.cursor() as cursor:
        cursor.execute(REPORT_TABLES_SQL, {"year": year, "as_of": as_of, "previous_as_of": previous_as_of})
        return cursor.fetchall()
