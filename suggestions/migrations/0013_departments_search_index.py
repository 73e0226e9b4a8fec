"""One GIN index over a suggestion's departments and its title's bigrams, on PostgreSQL (issue 9).

A department's people search their own suggestions: `department_ids && {theirs}` (0007) and
`search_grams @> {bigrams}` (0005). With an index on each column PostgreSQL read both bitmaps whole
(at 100,000 suggestions a large department's 4,800 items and the 11,700 titles holding a common
word) and ANDed them: 2 ms, and the list page asks it twice (its rows and its count). One index over
both columns finds the few hundred items holding both from the shorter list, skipping through the
longer one: 0.4 ms. A GIN index serves any subset of its columns equally well, so this index also
answers each condition alone (the office's searches, a department's pages without a search) and the
two single-column indexes go.
"""
from django.db import migrations

CREATE = """
CREATE INDEX IF NOT EXISTS suggestion_departments_search
    ON suggestions_suggestion USING gin (department_ids, search_grams);
DROP INDEX IF EXISTS suggestion_department_ids;
DROP INDEX IF EXISTS suggestion_search_grams;
"""
DROP = """
CREATE INDEX IF NOT EXISTS suggestion_search_grams ON suggestions_suggestion USING gin (search_grams);
CREATE INDEX IF NOT EXISTS suggestion_department_ids ON suggestions_suggestion USING gin (department_ids);
DROP INDEX IF EXISTS suggestion_departments_search;
"""


def create(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE)


def drop(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP)


class Migration(migrations.Migration):
    dependencies = [
        ("suggestions", "0012_reminder_assignment_unindexed"),
    ]

    operations = [
        migrations.RunPython(create, drop),
    ]
