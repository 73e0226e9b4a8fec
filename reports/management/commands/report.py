"""`report --year Y [--as-of DATE] [--source S] [--lookback 2022-2024] --format json|xlsx|docx [-o FILE]`

The annual report of the whole district (CONTRACT.md): JSON to stdout when no `-o` is given; an
Excel or Word file otherwise (to a file named after the report when `-o` is left out).
"""
import argparse
import datetime as dt
import json
from pathlib import Path

from django.core.management.base import BaseCommand
from django.utils import timezone

from reports import exports, queries
from reports.forms import parse_range
from suggestions.choices import Source


def _date(value):
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date (YYYY-MM-DD): {value}") from None


def _range(value):
    try:
        return parse_range(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a range of years (e.g. 2022-2024): {value}") from None


class Command(BaseCommand):
    help = "The annual report: figures as of a date, as JSON, an Excel workbook or a Word draft."

    def add_arguments(self, parser):
        parser.add_argument("--year", type=int, required=True)
        parser.add_argument("--as-of", type=_date, help="YYYY-MM-DD; default today")
        parser.add_argument("--source", choices=Source.values)
        parser.add_argument("--lookback", type=_range, help="earlier years to review, e.g. 2022-2024")
        parser.add_argument("--format", choices=["json", "xlsx", "docx"], default="json")
        parser.add_argument("-o", "--output", help="file to write; JSON goes to stdout without it")

    def handle(self, *args, **options):
        params = queries.Params(options["year"], options["as_of"] or timezone.localdate(), options["source"],
                                options["lookback"])
        report = queries.annual(None, params)
        kind, output = options["format"], options["output"]
        if kind == "json":
            text = json.dumps(queries.as_json(report), ensure_ascii=False, indent=2)
            if output:
                Path(output).write_text(text + "\n", encoding="utf-8")
            else:
                self.stdout.write(text)
            return
        data = exports.workbook(report) if kind == "xlsx" else exports.document(report)
        path = Path(output or exports.file_name(report, kind))
        path.write_bytes(data)
        self.stderr.write(f"{path} ({len(data)} bytes)")
