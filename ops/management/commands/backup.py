"""`manage.py backup -o FILE`: pg_dump -Fc for PostgreSQL, an online copy for SQLite."""
from django.core.management.base import BaseCommand, CommandError
from django.db import DEFAULT_DB_ALIAS
from django.utils.translation import gettext as _

from ops import backups


class Command(BaseCommand):
    help = "Write a backup of the database to FILE (PostgreSQL: pg_dump custom format; SQLite: a copy)."

    def add_arguments(self, parser):
        parser.add_argument("-o", "--output", required=True, metavar="FILE", help="where to write the backup")
        parser.add_argument("--database", default=DEFAULT_DB_ALIAS, help="database alias (default: default)")

    def handle(self, *args, output, database, **options):
        try:
            size = backups.backup(output, alias=database)
        except backups.BackupError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(_("Backup written to %(file)s (%(size)d bytes).") % {"file": output, "size": size})
