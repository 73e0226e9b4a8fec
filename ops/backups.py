"""Backup and restore with the database's own tools, so that a backup outlives this code.

PostgreSQL: `pg_dump --format=custom` (compressed, checked by pg_restore, restorable table by table)
and `pg_restore` in one transaction, so a failed restore leaves nothing half-written. SQLite: the
sqlite3 online backup API, which copies a consistent snapshot even while the web, worker and
scheduler processes write to the file.

A restore goes into an empty database. Replacing the contents of a non-empty one needs `force`:
a restore pointed at the wrong server must not wipe it.
"""
import os
import shutil
import sqlite3
import subprocess
from pathlib import Path

from django.db import DEFAULT_DB_ALIAS, connections
from django.utils.translation import gettext as _

POSTGRESQL = "postgresql"
SQLITE = "sqlite"


class BackupError(Exception):
    """A backup or restore that cannot go ahead; the message says why and what to do."""


def backup(output, alias=DEFAULT_DB_ALIAS):
    """Write a backup of the database `alias` to `output`; return its size in bytes.

    The file appears only when complete (written beside it, then renamed), so a failed backup
    never leaves a truncated file that looks like a good one.
    """
    connection = connections[alias]
    output = Path(output)
    output.parent.mkdir(parents=True, exist_ok=True)
    partial = output.with_name(output.name + ".part")
    partial.unlink(missing_ok=True)
    try:
        if connection.vendor == POSTGRESQL:
            _run("pg_dump", "--format=custom", f"--file={partial}", connection=connection)
        elif connection.vendor == SQLITE:
            if connection.in_atomic_block:
                # sqlite3's backup waits forever for the lock its own connection's transaction holds.
                raise BackupError(_("An SQLite database cannot be backed up from inside a transaction."))
            connection.ensure_connection()
            target = sqlite3.connect(partial)
            try:
                connection.connection.backup(target)
            finally:
                target.close()
        else:
            raise BackupError(_("Backups of %(vendor)s databases are not supported.") % {"vendor": connection.vendor})
        os.replace(partial, output)
    finally:
        partial.unlink(missing_ok=True)
    return output.stat().st_size


def restore(source, alias=DEFAULT_DB_ALIAS, force=False):
    """Restore the backup file `source` into the database `alias`; return its number of tables.

    Refuses a database that already has tables unless `force`, which replaces what the backup
    holds (PostgreSQL: tables the backup does not know are left alone; SQLite: the whole file).
    """
    connection = connections[alias]
    source = Path(source)
    if not source.is_file():
        raise BackupError(_("%(file)s: no such file.") % {"file": source})
    existing = tables(connection)
    if existing and not force:
        raise BackupError(
            _("The database %(name)s is not empty (%(count)d tables). Restore into an empty database, "
              "or pass --force to replace its contents.") % {"name": connection.settings_dict["NAME"],
                                                            "count": len(existing)})
    if connection.vendor == POSTGRESQL:
        # One transaction: all or nothing. No owners or grants: the roles of the server the backup
        # came from need not exist here; the restoring user owns everything.
        options = ["--no-owner", "--no-privileges", "--single-transaction"]
        if existing:
            options += ["--clean", "--if-exists"]
        _run("pg_restore", *options, str(source), connection=connection)
    elif connection.vendor == SQLITE:
        _restore_sqlite(connection, source)
    else:
        raise BackupError(_("Backups of %(vendor)s databases are not supported.") % {"vendor": connection.vendor})
    return len(tables(connection))


def tables(connection):
    with connection.cursor() as cursor:
        return connection.introspection.table_names(cursor)


def _restore_sqlite(connection, source):
    backup_file = sqlite3.connect(f"{source.resolve().as_uri()}?mode=ro", uri=True)
    try:
        try:
            verdict = backup_file.execute("PRAGMA quick_check").fetchone()[0]
        except sqlite3.DatabaseError as exc:
            raise BackupError(_("%(file)s is not an SQLite database: %(error)s")
                              % {"file": source, "error": exc}) from exc
        if verdict != "ok":
            raise BackupError(_("%(file)s is damaged: %(error)s") % {"file": source, "error": verdict})
        connection.ensure_connection()
        backup_file.backup(connection.connection)
    finally:
        backup_file.close()


def _run(tool, *arguments, connection):
    """Run a PostgreSQL client tool against `connection`'s database; raise BackupError on failure."""
    executable = shutil.which(tool)
    if executable is None:
        raise BackupError(
            _("%(tool)s not found: install the PostgreSQL client tools of the server's major version.")
            % {"tool": tool})
    settings_dict = connection.settings_dict
    command = [executable, f"--dbname={settings_dict['NAME']}"]
    for option, key in (("--host", "HOST"), ("--port", "PORT"), ("--username", "USER")):
        if settings_dict.get(key):
            command.append(f"{option}={settings_dict[key]}")
    env = os.environ.copy()
    # The password and TLS settings travel as libpq's variables, never on the command line (ps).
    if settings_dict.get("PASSWORD"):
        env["PGPASSWORD"] = str(settings_dict["PASSWORD"])
    for option, variable in (("sslmode", "PGSSLMODE"), ("sslrootcert", "PGSSLROOTCERT"),
                             ("sslcert", "PGSSLCERT"), ("sslkey", "PGSSLKEY")):
        if settings_dict.get("OPTIONS", {}).get(option):
            env[variable] = str(settings_dict["OPTIONS"][option])
    result = subprocess.run([*command, *arguments], env=env, capture_output=True, text=True)
    if result.returncode != 0:
        raise BackupError(_("%(tool)s failed: %(error)s") % {"tool": tool, "error": result.stderr.strip()})
