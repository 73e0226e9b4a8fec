"""A department's suggestions from one index, on PostgreSQL (issue 9; docs/PERFORMANCE.md).

A handler's list is the department's suggestions (every assignment it ever had, returned ones too:
`departments.scoping.suggestions`) filtered and searched. Asked as "an assignment of the department
exists", PostgreSQL must read each suggestion the other filters leave and probe the assignments, so
the page grows with the whole table. `department_ids`, the departments of a suggestion's
assignments as a GIN-indexed array, lets it AND the department's bitmap with the search's before it
reads a row. Triggers keep the column (the model does not declare it, like `search_grams` of 0005):
one UPDATE per INSERT statement on the assignments (a bulk import or seed pays once, not per row),
and a recount of the suggestions concerned when an assignment moves or is deleted (never through the
product, which keeps assignments). SQLite (development, tests) keeps the plain EXISTS.
"""
from django.db import migrations

CREATE = """
ALTER TABLE suggestions_suggestion ADD COLUMN IF NOT EXISTS department_ids bigint[] NOT NULL DEFAULT '{}';

CREATE OR REPLACE FUNCTION suggestion_departments_added() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE suggestions_suggestion s
       SET department_ids = ARRAY(SELECT DISTINCT d FROM unnest(s.department_ids || added.ids) d ORDER BY d)
      FROM (SELECT suggestion_id, array_agg(department_id) ids FROM added_rows GROUP BY suggestion_id) added
     WHERE s.id = added.suggestion_id AND NOT s.department_ids @> added.ids;
    RETURN NULL;
END
$$;

CREATE OR REPLACE FUNCTION suggestion_departments_recount(ids bigint[]) RETURNS void LANGUAGE sql AS $$
    UPDATE suggestions_suggestion s
       SET department_ids = ARRAY(SELECT DISTINCT a.department_id FROM suggestions_assignment a
                                   WHERE a.suggestion_id = s.id ORDER BY a.department_id)
     WHERE s.id = ANY(ids);
$$;

CREATE OR REPLACE FUNCTION suggestion_departments_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        PERFORM suggestion_departments_recount(ARRAY[OLD.suggestion_id]);
    ELSIF NEW.department_id IS DISTINCT FROM OLD.department_id OR NEW.suggestion_id IS DISTINCT FROM OLD.suggestion_id THEN
        PERFORM suggestion_departments_recount(ARRAY[OLD.suggestion_id, NEW.suggestion_id]);
    END IF;
    RETURN NULL;
END
$$;

DROP TRIGGER IF EXISTS suggestion_departments_added ON suggestions_assignment;
CREATE TRIGGER suggestion_departments_added AFTER INSERT ON suggestions_assignment
    REFERENCING NEW TABLE AS added_rows FOR EACH STATEMENT EXECUTE FUNCTION suggestion_departments_added();
DROP TRIGGER IF EXISTS suggestion_departments_changed ON suggestions_assignment;
CREATE TRIGGER suggestion_departments_changed AFTER UPDATE OR DELETE ON suggestions_assignment
    FOR EACH ROW EXECUTE FUNCTION suggestion_departments_changed();

UPDATE suggestions_suggestion s
   SET department_ids = ARRAY(SELECT DISTINCT a.department_id FROM suggestions_assignment a
                               WHERE a.suggestion_id = s.id ORDER BY a.department_id)
 WHERE EXISTS (SELECT 1 FROM suggestions_assignment a WHERE a.suggestion_id = s.id);
CREATE INDEX IF NOT EXISTS suggestion_department_ids ON suggestions_suggestion USING gin (department_ids);
ANALYZE suggestions_suggestion;
"""
DROP = """
DROP INDEX IF EXISTS suggestion_department_ids;
DROP TRIGGER IF EXISTS suggestion_departments_changed ON suggestions_assignment;
DROP TRIGGER IF EXISTS suggestion_departments_added ON suggestions_assignment;
DROP FUNCTION IF EXISTS suggestion_departments_changed();
DROP FUNCTION IF EXISTS suggestion_departments_recount(bigint[]);
DROP FUNCTION IF EXISTS suggestion_departments_added();
ALTER TABLE suggestions_suggestion DROP COLUMN IF EXISTS department_ids;
"""


def create(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE)


def drop(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP)


class Migration(migrations.Migration):
    dependencies = [
        ("suggestions", "0006_export_job"),
    ]

    operations = [
        migrations.RunPython(create, drop),
    ]
