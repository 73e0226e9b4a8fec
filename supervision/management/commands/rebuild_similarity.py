from django.core.management.base import BaseCommand

from supervision import similarity


class Command(BaseCommand):
    help = ("Index every suggestion for the similar-suggestions lists (after data loaded in bulk, which "
            "bypasses the index kept up to date on save). Safe to run again; --missing resumes.")

    def add_arguments(self, parser):
        parser.add_argument("--missing", action="store_true", help="only suggestions not indexed yet")
        parser.add_argument("--batch", type=int, default=1000)

    def handle(self, *args, missing, batch, **options):
        done = similarity.rebuild(batch=batch, missing_only=missing, stdout=self.stdout)
        self.stdout.write(self.style.SUCCESS(f"{done} suggestions indexed."))
