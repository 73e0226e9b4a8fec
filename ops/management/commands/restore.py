"""`manage.py restore FILE [--force]`: a backup of `manage.py backup` into an empty database."""
from django.core.management.base import BaseCommand, CommandError
from django.db import DEFAULT_DB_ALIAS, connections
from django.utils.translation import gettext as _

from ops import backups


class Command(BaseCommand):
    help = ("Restore a backup written by `manage.py backup` into an empty database; --force replaces "
            "the contents of a non-empty one.")

    def add_arguments(self, parser):
        parser.add_argument("file", metavar="FILE", help="a file written by `manage.py backup`")
        parser.add_argument("--force", action="store_true",
                            help="replace the contents of a database that is not empty")
        parser.add_argument("--database", default=DEFAULT_DB_ALIAS, help="database alias (default: default)")

    def handle(self, *args, file, force, database, **options):
        try:
            count = backups.restore(file, alias=database, force=force)
        except backups.BackupError as exc:
            raise CommandError(str(exc)) from exc
        name = connections[database].settings_dict["NAME"]
        self.stdout.write(_("Restored %(file)s into %(name)s: %(count)d tables. Run `manage.py migrate` "
                            "if the backup comes from an older version.") % {"file": file, "name": name,
                                                                             "count": count})
