"""The list's text search on PostgreSQL, where the indexes of migrations 0005 and 0013 serve it,
finds exactly what a plain case-insensitive substring match on number, title and lead deputy finds."""
import pytest
from django.db import connection, transaction
from django.db.models import Q

from departments import scoping
from suggestions import workflow
from suggestions.filters import SuggestionFilter
from suggestions.models import Deputy, Suggestion

TITLES = ["关于整治南京西路占道经营的建议", "关于南京西路青海路口出租车扬招点标识更新的建议", "关于加装电梯的建议",
          "Taxi stand signs on Nanjing Road West", "关于100%完成_整改的建议", "关于治理噪声的建议"]
TERMS = ["整治", "治", "南京西路", "西路", "路口", "taxi", "TA", "nanjing road", "100%", "%", "_整", "2025",
         "250", "代表", "李四", "无此", "xi", "ROAD WEST"]


@pytest.fixture
def suggestions(require_postgres, people):
    other = Deputy.objects.create(name="李四代表")
    for i, title in enumerate(TITLES):
        workflow.register(actor=people.office, year=2025, number=f"20250{i:02d}", title=title,
                          lead_deputy=other if i % 2 else people.deputy)
    return Suggestion.objects.all()


def test_it_finds_by_index_what_a_substring_match_finds(suggestions):
    for term in TERMS:
        found = set(SuggestionFilter({"q": term}, queryset=suggestions).qs.values_list("pk", flat=True))
        expected = set(suggestions.filter(Q(number__icontains=term) | Q(title__icontains=term)
                                          | Q(lead_deputy__name__icontains=term)).values_list("pk", flat=True))
        assert found == expected, term
    by_two = SuggestionFilter({"q": "整治"}, queryset=suggestions).qs  # the bigram index's case
    assert [s.title for s in by_two] == [TITLES[0]]


def test_it_finds_a_suggestion_by_its_new_title_after_an_edit(suggestions, people):
    s = suggestions.get(title=TITLES[2])
    workflow.update(s, actor=people.office, title="关于增设充电桩的建议")

    def found(term):
        return list(SuggestionFilter({"q": term}, queryset=suggestions).qs.values_list("pk", flat=True))

    assert found("电桩") == [s.pk]  # the bigrams follow the title (a trigger keeps them)
    assert found("电梯") == []


def test_a_department_searches_its_own_suggestions_through_one_index(require_postgres, people):
    """Its departments and the search's bigrams are two columns of one GIN index (migration 0013):
    PostgreSQL reads the items holding both in one index scan, instead of reading each column's
    whole list and ANDing them; each department finds its own items only."""
    for i, title in enumerate(TITLES):
        people.assigned(f"20250{i:02d}", lead=people.dept if i % 2 == 0 else people.dept2, title=title)
    mine = SuggestionFilter({"q": "整治"}, queryset=scoping.suggestions(people.handler)).qs
    assert [s.title for s in mine] == [TITLES[0]]
    theirs = SuggestionFilter({"q": "整治"}, queryset=scoping.suggestions(people.handler2)).qs
    assert list(theirs) == []

    sql, params = mine.query.sql_with_params()
    with transaction.atomic(), connection.cursor() as cursor:
        # Six rows: without this, reading the table (or walking the order's index) is cheaper.
        cursor.execute("SET LOCAL enable_seqscan = off; SET LOCAL enable_indexscan = off")
        cursor.execute("EXPLAIN " + sql, params)
        plan = "\n".join(row[0] for row in cursor.fetchall())
    scans = [line for line in plan.splitlines() if "Index Scan on suggestion_departments_search" in line]
    assert len(scans) == 1, plan
    condition = plan.splitlines()[plan.splitlines().index(scans[0]) + 1]
    assert "department_ids &&" in condition and "search_grams @>" in condition, plan
    assert "BitmapAnd" not in plan, plan
