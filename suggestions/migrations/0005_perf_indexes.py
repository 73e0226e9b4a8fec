"""Indexes for a national system: 100,000 suggestions (issue 9; `make bench`, docs/PERFORMANCE.md).

- Each as-of look-up of the annual report (the outcome and the ratings in force on a date) and the
  scope of a handler's list are answered from an index alone.
- The list's text search, on PostgreSQL only (SQLite serves development and tests, which are small):
  `suggestions.filters.SuggestionFilter.search` matches number and title with UPPER(…) LIKE
  UPPER('%term%'). pg_trgm's GIN indexes on UPPER(number) and UPPER(title) serve terms of three
  characters or more as Django writes them. Most Chinese words have two characters, too few for a
  trigram, so a GIN index of each text's character bigrams serves those, exactly: a two-character
  term is in the text if and only if it is one of the text's bigrams.

Without the right to create the pg_trgm extension (it is a trusted extension since PostgreSQL 13,
so a database owner may), the trigram indexes are left out and searches of three characters or
more read the rows instead; nothing else depends on them.
"""
from django.db import migrations, models, transaction

BIGRAMS = """
CREATE OR REPLACE FUNCTION search_bigrams(t text) RETURNS text[]
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT coalesce(array_agg(substr(u, i, 2)), '{}')
      FROM (SELECT upper(coalesce(t, '')) AS u) AS s, generate_series(1, char_length(u) - 1) AS i
$$;
CREATE OR REPLACE FUNCTION suggestion_search_bigrams(number text, title text) RETURNS text[]
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT search_bigrams(number) || search_bigrams(title)
$$;
CREATE INDEX IF NOT EXISTS suggestion_search_bigrams
    ON suggestions_suggestion USING gin (suggestion_search_bigrams(number, title));
"""
TRIGRAMS = """
CREATE EXTENSION IF NOT EXISTS pg_trgm;
CREATE INDEX IF NOT EXISTS suggestion_title_trigrams
    ON suggestions_suggestion USING gin (upper(title::text) gin_trgm_ops);
CREATE INDEX IF NOT EXISTS suggestion_number_trigrams
    ON suggestions_suggestion USING gin (upper(number::text) gin_trgm_ops);
"""
DROP = """
DROP INDEX IF EXISTS suggestion_number_trigrams;
DROP INDEX IF EXISTS suggestion_title_trigrams;
DROP INDEX IF EXISTS suggestion_search_bigrams;
DROP FUNCTION IF EXISTS suggestion_search_bigrams(text, text);
DROP FUNCTION IF EXISTS search_bigrams(text);
"""


def create_search_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(BIGRAMS)
    try:
        with transaction.atomic(using=schema_editor.connection.alias):
            schema_editor.execute(TRIGRAMS)
    except Exception as e:  # no privilege for the extension: the searches still work, without this index
        print(f"\n  pg_trgm is not available ({str(e).splitlines()[0]}): no trigram indexes")


def drop_search_indexes(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP)


class Migration(migrations.Migration):

    dependencies = [
        ("departments", "0002_office_groups"),
        ("suggestions", "0004_reminders"),
    ]

    operations = [
        migrations.AddIndex(
            model_name="assignment",
            index=models.Index(fields=["department", "suggestion"], name="assignment_department_items"),
        ),
        migrations.AddIndex(
            model_name="feedback",
            index=models.Index(fields=["suggestion", "-recorded_on", "-id"], include=("result", "attitude"),
                               name="ratings_as_of"),
        ),
        migrations.AddIndex(
            model_name="outcomerecord",
            index=models.Index(fields=["suggestion", "-effective_on", "-id"], include=("outcome",),
                               name="outcome_as_of"),
        ),
        migrations.RunPython(create_search_indexes, drop_search_indexes),
    ]
