"""The benchmark's PostgreSQL databases: one per size, created, migrated and seeded when needed.

`BENCH_DATABASE_URL` (default postgres://postgres@127.0.0.1:5432/bench_db) names the database of
the national size (100,000 suggestions); another size N lives beside it in `<name>_<N>`. A
database is (re)built when it is missing or holds another number of suggestions; otherwise it is
reused, migrated to the current schema. Only a database whose name contains "bench" is ever
dropped, so a mistyped URL cannot cost real data.
"""
import os
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg2
from psycopg2 import sql

DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/bench_db"
NATIONAL = 100_000
ROOT = Path(__file__).resolve().parent.parent


@dataclass
class Database:
    size: int
    url: str
    name: str
    seeded_seconds: float | None = None  # when seeded by this run


def base_url():
    return os.environ.get("BENCH_DATABASE_URL", DEFAULT_URL)


def url_for(size):
    parts = urlsplit(base_url())
    if parts.scheme not in ("postgres", "postgresql"):
        raise SystemExit("BENCH_DATABASE_URL must be a PostgreSQL URL: the benchmark measures PostgreSQL")
    name = parts.path.lstrip("/")
    if size != NATIONAL:
        name = f"{name}_{size}"
    return urlunsplit(parts._replace(path="/" + name)), name


def _connect(url, dbname):
    parts = urlsplit(url)
    conn = psycopg2.connect(host=parts.hostname or "127.0.0.1", port=parts.port or 5432, user=parts.username,
                            password=parts.password, dbname=dbname, connect_timeout=10)
    conn.autocommit = True
    return conn


def _count(url, name):
    """Suggestions in the database; None when it does not exist or has no schema yet."""
    try:
        conn = _connect(url, name)
    except psycopg2.OperationalError as e:
        if "does not exist" in str(e):
            return None
        raise
    try:
        with conn.cursor() as cursor:
            cursor.execute("SELECT to_regclass('suggestions_suggestion') IS NOT NULL")
            if not cursor.fetchone()[0]:
                return None
            cursor.execute("SELECT count(*) FROM suggestions_suggestion")
            return cursor.fetchone()[0]
    finally:
        conn.close()


def _recreate(url, name):
    if "bench" not in name:
        raise SystemExit(f"refusing to drop database {name!r}: only a database named *bench* is rebuilt")
    conn = _connect(url, "postgres")
    try:
        with conn.cursor() as cursor:
            cursor.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
            cursor.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
            # Synthetic data on a disk shared with other work: a commit (every page saves its
            # session) does not wait for the disk, so timings measure work, not another process's I/O.
            cursor.execute(sql.SQL("ALTER DATABASE {} SET synchronous_commit = off").format(sql.Identifier(name)))
    finally:
        conn.close()
    _configure(url, name)


def _configure(url, name):
    """The planner's setting for solid-state storage that docker-compose.yml gives the product's server
    (random_page_cost 1.1 instead of 4), on the bench database only."""
    conn = _connect(url, "postgres")
    try:
        with conn.cursor() as cursor:
            cursor.execute(sql.SQL("ALTER DATABASE {} SET random_page_cost = 1.1").format(sql.Identifier(name)))
    finally:
        conn.close()


def manage(url, *args):
    """Run a management command on the database at `url`; its output."""
    done = subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, check=True, capture_output=True, text=True,
                          env={**os.environ, "DATABASE_URL": url})
    return done.stdout


def vacuum(url, name):
    """Statistics for the planner, a fresh visibility map for index-only scans, and the dead rows of
    the last run's rolled-back measurements (the reminder scan updates 100,000 assignments) cleared:
    a seed, a migration or an earlier run leaves them until autovacuum comes round, and a server may
    run without autovacuum (this one does), which made the report's figure depend on what ran before."""
    conn = _connect(url, name)
    try:
        with conn.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE")
    finally:
        conn.close()


def ensure(size, say=print):
    """The database of `size` suggestions, built if needed, migrated in any case."""
    url, name = url_for(size)
    found = _count(url, name)
    db = Database(size, url, name)
    if found == size:
        _configure(url, name)
        migrated = "Applying" in manage(url, "migrate", "--no-input")
        vacuum(url, name)
        say(f"  {name}: {size:,} suggestions, reused{', migrated' if migrated else ''}")
        return db
    say(f"  {name}: {'missing' if found is None else f'{found:,} suggestions'}; building it with {size:,}")
    _recreate(url, name)
    manage(url, "migrate", "--no-input", "-v0")
    started = time.monotonic()
    manage(url, "seed_bench", "--suggestions", str(size))
    db.seeded_seconds = time.monotonic() - started
    vacuum(url, name)
    say(f"  {name}: seeded in {db.seeded_seconds:.0f} s")
    return db
