"""manage.py backup and restore: a populated database, backed up, restored into an empty one,
where every row of every table is found again; a non-empty database is refused without --force.

Each database lives in child processes of its own (settings are read once per process), so the
SQLite round trip runs in CI too, where the tests' own database is PostgreSQL.
"""
import json
import sqlite3
import sys
from collections import Counter
from urllib.parse import urlsplit

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from suggestions.models import Event, Suggestion
from tests.ops.utils import child_env, manage, run


def populate(people):
    """A database with the life of a suggestion in it: a reply, co-handling, events, the audit trail."""
    people.replied("2025001")
    people.assigned("2025002", co=[people.dept2])
    people.suggestion("2025003")
    assert Event.objects.count() > Suggestion.objects.count() == 3


# Migrates the database of DATABASE_URL (if need be), fills it, and backs it up to argv[1], in a child process.
POPULATE_AND_BACK_UP = """
import sys, django
django.setup()
from django.conf import settings
settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
from django.core.management import call_command
call_command("migrate", interactive=False, verbosity=0)
from tests.base import Personas
from tests.ops.test_backup import populate
populate(Personas.create())
call_command("backup", "-o", sys.argv[1])
"""


def rows(cursor, table):
    """The table's rows as a multiset; JSON values (dicts from psycopg2) in a canonical spelling."""
    cursor.execute(f'SELECT * FROM "{table}"')
    return Counter(tuple(json.dumps(value, sort_keys=True) if isinstance(value, dict | list) else value
                         for value in row) for row in cursor.fetchall())


def contents(database_url):
    """Every table's rows (and PostgreSQL's sequence positions): what a restore must bring back."""
    if database_url.startswith("sqlite"):
        db = sqlite3.connect(database_url.removeprefix("sqlite:///"))
        tables_query = "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
        sequences_query = None
    else:
        import psycopg2

        db = psycopg2.connect(database_url)
        tables_query = ("SELECT table_name FROM information_schema.tables "
                        "WHERE table_schema = 'public' AND table_type = 'BASE TABLE'")
        sequences_query = "SELECT sequencename, last_value FROM pg_sequences WHERE schemaname = 'public'"
    try:
        cursor = db.cursor()
        cursor.execute(tables_query)
        found = {table: rows(cursor, table) for (table,) in cursor.fetchall()}
        if sequences_query:
            cursor.execute(sequences_query)
            found["(sequences)"] = dict(cursor.fetchall())
        return found
    finally:
        db.close()


def round_trip(tmp_path, source_url, target_url, backup_name):
    source, target = child_env(tmp_path, DATABASE_URL=source_url), child_env(tmp_path, DATABASE_URL=target_url)
    backup_file = tmp_path / backup_name
    backed_up = run([sys.executable, "-c", POPULATE_AND_BACK_UP, str(backup_file)], env=source)
    assert backed_up.returncode == 0, backed_up.stderr
    assert not list(tmp_path.glob("*.part"))

    restored = manage("restore", str(backup_file), env=target)
    assert restored.returncode == 0, restored.stderr
    original = contents(source_url)
    assert sum(original["suggestions_suggestion"].values()) == 3
    assert sum(original["suggestions_event"].values()) > 3
    assert contents(target_url) == original

    refused = manage("restore", str(backup_file), env=target)
    assert refused.returncode == 1 and "--force" in refused.stderr
    forced = manage("restore", "--force", str(backup_file), env=target)
    assert forced.returncode == 0, forced.stderr
    assert contents(target_url) == original
    return backup_file


def test_it_restores_every_row_of_an_sqlite_database(sqlite_copy, tmp_path):
    round_trip(tmp_path, sqlite_copy("jianyi.sqlite3"), f"sqlite:///{tmp_path / 'restored.sqlite3'}", "backup.sqlite3")


@pytest.fixture
def postgres_pair(require_postgres):
    """Two databases of our own, ops_src and ops_dst, created empty and dropped afterwards."""
    import psycopg2

    url = urlsplit(require_postgres)
    server = psycopg2.connect(dbname="postgres", user=url.username, password=url.password,
                              host=url.hostname, port=url.port or 5432)
    server.autocommit = True
    names = ("ops_src", "ops_dst")

    def drop():
        with server.cursor() as cursor:
            for name in names:
                cursor.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")

    drop()
    with server.cursor() as cursor:
        for name in names:
            cursor.execute(f"CREATE DATABASE {name}")
    try:
        yield {name: url._replace(path=f"/{name}").geturl() for name in names}
    finally:
        drop()
        server.close()


def test_it_restores_every_row_of_a_postgresql_database(postgres_pair, tmp_path):
    backup_file = round_trip(tmp_path, postgres_pair["ops_src"], postgres_pair["ops_dst"], "backup.dump")
    assert backup_file.read_bytes()[:5] == b"PGDMP"  # pg_dump's custom format


@pytest.mark.skipif(connection.vendor != "sqlite", reason="an SQLite-only guard")
@pytest.mark.django_db
def test_it_will_not_back_up_sqlite_from_inside_a_transaction(tmp_path):
    # sqlite3's backup would wait forever for the lock of the connection's own transaction.
    with pytest.raises(CommandError):
        call_command("backup", "-o", str(tmp_path / "never.sqlite3"))
    assert not list(tmp_path.iterdir())


def test_it_refuses_a_file_that_does_not_exist(tmp_path):
    with pytest.raises(CommandError, match="nothing.dump"):
        call_command("restore", str(tmp_path / "nothing.dump"))


def test_it_refuses_a_file_that_is_not_a_backup(tmp_path):
    bogus = tmp_path / "notes.txt"
    bogus.write_text("not a database " * 100)
    wrong = manage("restore", str(bogus), env=child_env(tmp_path))  # an empty database: the file is the problem
    assert wrong.returncode == 1 and "notes.txt" in wrong.stderr
    assert "Traceback" not in wrong.stderr
