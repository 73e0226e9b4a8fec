"""`send_reminders [--date DATE] [--dry-run]`: the daily reminder scan, in the foreground.

The same code the scheduler runs every working day (`suggestions.tasks.send_reminders`), as if
today were DATE. What was already sent is not sent again, so it is safe to run any number of times;
it also sends what an earlier run failed to send.
"""
import datetime as dt

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from suggestions import reminders


def _date(raw):
    try:
        return dt.date.fromisoformat(raw)
    except ValueError:
        raise CommandError(f"--date must be YYYY-MM-DD, got {raw!r}") from None


class Command(BaseCommand):
    help = "Send today's deadline reminders (digests to handlers and leaders, overdue summaries to the office)."

    def add_arguments(self, parser):
        parser.add_argument("--date", type=_date, help="scan as if today were this day (YYYY-MM-DD)")
        parser.add_argument("--dry-run", action="store_true", help="list what would be sent; send and record nothing")

    def handle(self, *args, date=None, dry_run=False, **options):
        day = date or timezone.localdate()
        result = reminders.scan(day, dry_run=dry_run)
        if dry_run:
            for user, items, overdue in result.preview:
                what = f"{items} items" if items else f"overdue summary ({overdue} items)"
                self.stdout.write(f"{user.username} <{user.email or '-'}>: {what}")
            self.stdout.write(f"{day}: {len(result.preview)} digests found, {result.reserved} reminders of this day "
                              "already sent or settled (dry run: nothing sent, nothing recorded)")
            return
        self.stdout.write(f"{day}: {result.reserved} reminders recorded; {result.notifications} digests sent "
                          f"({result.emails} e-mails, {result.failures} failed, {result.dropped} dropped)")
        if result.failures:
            self.stderr.write(f"{result.failures} e-mails failed; they are sent by the next run")
