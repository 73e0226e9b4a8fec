"""`export_suggestions -o FILE.xlsx [--year Y]`: every suggestion in the import's columns plus the computed ones."""
from django.core.management.base import BaseCommand

from suggestions.models import Suggestion
from suggestions.spreadsheets import write_export


class Command(BaseCommand):
    help = "Export suggestions to .xlsx in the import template's columns, then 状态, 是否按期, 最新进展."

    def add_arguments(self, parser):
        parser.add_argument("-o", "--output", required=True, help="the .xlsx file to write")
        parser.add_argument("--year", type=int, help="only this year's suggestions")

    def handle(self, *args, output, year, **options):
        qs = Suggestion.objects.all()
        if year:
            qs = qs.filter(year=year)
        count = write_export(qs, output)
        self.stdout.write(f"Exported {count} suggestions to {output}.")
