"""Indexes for a national system: 100,000 suggestions (issue 9; `make bench`, docs/PERFORMANCE.md).

- Each as-of look-up of the annual report (the outcome and the ratings in force on a date), its
  table by department, the scope of a handler's list and the dashboards' "awaiting feedback" are
  answered from an index alone.
- The list's text search, on PostgreSQL only (SQLite serves development and tests, which are small):
  `suggestions.filters.SuggestionFilter.search` matches number and title with UPPER(…) LIKE
  UPPER('%term%'). pg_trgm's GIN indexes on UPPER(number) and UPPER(title) serve terms of three
  characters or more as Django writes them. Most Chinese words have two characters, too few for a
  trigram, so a GIN index of the character bigrams of number and title (`search_grams`, a column a
  trigger keeps; the model does not declare it) serves those, exactly: a two-character term is in a
  text if and only if it is one of the text's bigrams.

Without the right to create the pg_trgm extension (it is a trusted extension since PostgreSQL 13,
so a database owner may), the trigram indexes are left out and searches of three characters or
more read the rows instead; nothing else depends on them.
"""
from django.db import migrations, models, transaction

# The bigrams are a column kept by a trigger, not an index on an expression: checking a stored
# array costs a microsecond, computing it forty (PL/pgSQL, three times faster than the same in SQL),
# and the planner, which charges an indexed expression for every row a bitmap returns, misjudged the
# plans that use such an index. A trigger rather than a generated column, and one that names no
# column: PostgreSQL refuses to change the type of a column that a generated column or a trigger's
# column list uses, and a later AlterField of the title would fail.
BIGRAMS = """
CREATE OR REPLACE FUNCTION search_bigrams(t text) RETURNS text[]
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE AS $$
DECLARE
    u text := upper(coalesce(t, ''));
    grams text[] := '{}';
BEGIN
    FOR i IN 1 .. char_length(u) - 1 LOOP
        grams := grams || substr(u, i, 2);
    END LOOP;
    RETURN grams;
END
$$;
CREATE OR REPLACE FUNCTION suggestion_search_grams() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' OR NEW.number IS DISTINCT FROM OLD.number OR NEW.title IS DISTINCT FROM OLD.title THEN
        NEW.search_grams := search_bigrams(NEW.number) || search_bigrams(NEW.title);
    END IF;
    RETURN NEW;
END
$$;
ALTER TABLE suggestions_suggestion ADD COLUMN IF NOT EXISTS search_grams text[];
DROP TRIGGER IF EXISTS suggestion_search_grams ON suggestions_suggestion;
CREATE TRIGGER suggestion_search_grams BEFORE INSERT OR UPDATE ON suggestions_suggestion
    FOR EACH ROW EXECUTE FUNCTION suggestion_search_grams();
UPDATE suggestions_suggestion SET search_grams = search_bigrams(number) || search_bigrams(title);
CREATE INDEX IF NOT EXISTS suggestion_search_grams ON suggestions_suggestion USING gin (search_grams);
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
DROP INDEX IF EXISTS suggestion_search_grams;
DROP TRIGGER IF EXISTS suggestion_search_grams ON suggestions_suggestion;
ALTER TABLE suggestions_suggestion DROP COLUMN IF EXISTS search_grams;
DROP FUNCTION IF EXISTS suggestion_search_grams();
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
    # The planner's estimates (how many titles hold a bigram or a trigram) come from the statistics
    # of the new column and index expressions, which only ANALYZE gathers.
    schema_editor.execute("ANALYZE suggestions_suggestion")


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
            model_name="suggestion",
            index=models.Index(condition=models.Q(awaiting_feedback=True, state="replied"), fields=["-year", "number"],
                               name="awaiting_feedback"),
        ),
        migrations.AddIndex(
            model_name="assignment",
            index=models.Index(fields=["department", "suggestion"], name="assignment_department_items"),
        ),
        migrations.AddIndex(
            model_name="assignment",
            index=models.Index(fields=["suggestion"], include=("department", "role", "state", "assigned_on"),
                               name="assignment_departments"),
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
