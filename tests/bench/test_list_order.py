"""On PostgreSQL the list's order (newest year first, then by number) comes from an index, so a page
of the whole list reads its 25 entries instead of sorting a year (migration suggestions 0014)."""
from django.db import connection, transaction

from suggestions.models import Suggestion
from suggestions.views import LIST_FIELDS


def test_a_page_of_the_whole_list_is_read_in_order_from_an_index(require_postgres, people):
    for year in (2024, 2025):
        for n in range(3):
            people.suggestion(f"{year}{n:03d}", year=year)
    qs = Suggestion.objects.select_related("lead_deputy").only(*LIST_FIELDS).order_by("-year", "number", "pk")[:25]
    assert [s.number for s in qs] == ["2025000", "2025001", "2025002", "2024000", "2024001", "2024002"]
    sql, params = qs.query.sql_with_params()
    with transaction.atomic(), connection.cursor() as cursor:
        # Six rows: without this, reading and sorting them is cheaper than any index.
        cursor.execute("SET LOCAL enable_seqscan = off; SET LOCAL enable_sort = off")
        cursor.execute("EXPLAIN " + sql, params)
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert "Index Scan using suggestion_list_order" in plan, plan
    assert "Sort" not in plan, plan
