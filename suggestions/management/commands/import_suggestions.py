"""`import_suggestions FILE.xlsx [--dry-run]`: the import template of CONTRACT.md, all or nothing."""
import os

from django.core.management.base import BaseCommand, CommandError
from django.utils import translation

from suggestions.spreadsheets import import_file


class Command(BaseCommand):
    help = "Import suggestions from an .xlsx file in the import template; nothing is written if any row is wrong."

    def add_arguments(self, parser):
        parser.add_argument("file", help="the .xlsx file")
        parser.add_argument("--dry-run", action="store_true", help="check every row, write nothing")

    def handle(self, *args, file, dry_run, **options):
        if not os.path.isfile(file):
            raise CommandError(f"{file}: no such file")
        # Operators script against `row N, column X: …`: the command line speaks English.
        with translation.override("en"):
            result = import_file(file, file_name=os.path.basename(file), dry_run=dry_run)
            if not result.ok:
                for issue in result.issues:
                    self.stderr.write(issue.text())
                raise CommandError(f"{len(result.issues)} error(s); nothing was written.", returncode=1)
            self.stdout.write(result.summary_line())
