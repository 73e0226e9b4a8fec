"""The floors: what the least possible work costs, measured beside the product's own.

- `suggestion_list`: the list page's rows from ONE raw SQL query (scope, filters, search, order,
  the lead departments) written as a minimal HTML table, behind the same middleware as the page.
- `page`: an authenticated page that does nothing (the session, the user, the response).
- `OUTCOME_TABLE_SQL`: the annual report's outcome table as of a date in one GROUP BY.

Only for the benchmark: `bench.urls` mounts the views beside the product's URLs.
"""
from django.contrib.auth.decorators import login_required
from django.db import connection
from django.http import HttpResponse
from django.utils.html import escape

from departments.scoping import OFFICE_GROUPS

# Scope: the office sees everything; anyone else the suggestions of their departments' assignments
# (any state, as `departments.scoping.suggestions`). Uncorrelated IN (...) subqueries: PostgreSQL
# evaluates each once into a hash and probes it per row.
LIST_SQL = """
SELECT s.id, s.number, s.title, d.name, s.state, s.outcome, ({leads}) AS leads
  FROM suggestions_suggestion s JOIN suggestions_deputy d ON d.id = s.lead_deputy_id
 WHERE ((SELECT u.is_superuser OR EXISTS (
                SELECT 1 FROM auth_user_groups ug JOIN auth_group g ON g.id = ug.group_id
                 WHERE ug.user_id = u.id AND g.name IN ({office}))
           FROM auth_user u WHERE u.id = %(user)s)
        OR s.id IN (SELECT a.suggestion_id FROM suggestions_assignment a
                      JOIN departments_membership m ON m.department_id = a.department_id
                     WHERE m.user_id = %(user)s))
   {filters}
 ORDER BY s.year DESC, s.number ASC, s.id ASC
 LIMIT 25
"""
LEADS = {
    "postgresql": """SELECT string_agg(dep.name, '、' ORDER BY a.id)
                       FROM suggestions_assignment a JOIN departments_department dep ON dep.id = a.department_id
                      WHERE a.suggestion_id = s.id AND a.role = 'lead' AND a.state <> 'returned'""",
    # SQLite (the smoke test): group_concat keeps the order of an ordered subquery.
    "sqlite": """SELECT group_concat(name, '、') FROM (
                   SELECT dep.name FROM suggestions_assignment a
                     JOIN departments_department dep ON dep.id = a.department_id
                    WHERE a.suggestion_id = s.id AND a.role = 'lead' AND a.state <> 'returned' ORDER BY a.id)""",
}
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


def list_rows(user_id, params):
    """The 25 rows of the list for these filters (year, source, state, outcome, q), one query."""
    values = {"user": user_id, **{f"office{i}": name for i, name in enumerate(OFFICE_GROUPS)}}
    office = ", ".join(f"%(office{i})s" for i in range(len(OFFICE_GROUPS)))
    # ILIKE is PostgreSQL's; SQLite's LIKE ignores case already (for the ASCII letters that have one).
    like = "ILIKE" if connection.vendor == "postgresql" else "LIKE"
    filters = []
    for name, clause in FILTERS.items():
        value = (params.get(name) or "").strip()
        if value:
            filters.append(clause.replace("{like}", like))
            values[name] = like_pattern(value[:100]) if name == "q" else (int(value) if name == "year" else value)
    with connection.cursor() as cursor:
        sql = LIST_SQL.format(leads=LEADS[connection.vendor], office=office, filters="\n   ".join(filters))
        cursor.execute(sql, values)
        return cursor.fetchall()


@login_required
def suggestion_list(request):
    rows = list_rows(request.user.pk, request.GET)
    cells = "".join(
        f'<tr><td>{escape(number)}</td><td><a href="/suggestions/{pk}/">{escape(title)}</a></td>'
        f"<td>{escape(deputy)}</td><td>{escape(leads or '')}</td><td>{escape(state)}</td>"
        f"<td>{escape(outcome)}</td></tr>"
        for pk, number, title, deputy, state, outcome, leads in rows)
    return HttpResponse(f"<!DOCTYPE html><table>{cells}</table>")


@login_required
def page(request):
    return HttpResponse(escape(request.user.get_username()))


OUTCOME_TABLE_SQL = """
SELECT o.outcome, count(*)
  FROM suggestions_suggestion s
  LEFT JOIN LATERAL (
        SELECT r.outcome FROM suggestions_outcomerecord r
         WHERE r.suggestion_id = s.id AND r.effective_on <= %(as_of)s
         ORDER BY r.effective_on DESC, r.id DESC LIMIT 1) o ON s.first_replied_on <= %(as_of)s
 WHERE s.year = %(year)s AND s.assigned_on <= %(as_of)s AND s.state <> 'withdrawn'
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
   WHERE s.year = %(year)s AND s.assigned_on <= %(as_of)s AND s.state <> 'withdrawn') t
 GROUP BY o
"""


def outcome_table(year, as_of):
    """{outcome or None (not replied): count} of the year's items counted on `as_of`, one query."""
    sql = OUTCOME_TABLE_SQL if connection.vendor == "postgresql" else OUTCOME_TABLE_SQL_PORTABLE
    with connection.cursor() as cursor:
        cursor.execute(sql, {"year": year, "as_of": as_of})
        return dict(cursor.fetchall())
