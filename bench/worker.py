"""One measurement in a process of its own: `python -m bench.worker TASK --out FILE [options]`.

`bench.__main__` starts it with DATABASE_URL pointing at the size's database and production-like
settings (DEBUG off); it writes its figures as JSON to FILE. A process per measurement keeps the
peak memory of an export its own, and a crash in one from taking the others with it.
"""
import argparse
import datetime as dt
import json
import os
import resource
import sys
import tempfile
from pathlib import Path


def setup():
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()
    from django.conf import settings

    # With DEBUG off the product serves static files from a collected manifest; the pages here only
    # need their URLs, so the plain storage stands in for it (no collectstatic for a benchmark).
    settings.STORAGES = {**settings.STORAGES,
                         "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}}
    settings.ROOT_URLCONF = "bench.urls"
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"


def rss_mb():
    """The resident memory now (Linux), in MB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def peak_mb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def task_pages(args):
    from django.db import connection

    from . import measure

    names = dict(zip(args.sizes, args.databases, strict=True))

    def switch(size):
        if connection.settings_dict["NAME"] != names[size]:
            measure.switch_database(names[size])

    sites, counts, rows, unmeasured = {}, {}, {}, []
    for size in args.sizes:
        switch(size)
        site = measure.Site.open()
        sites[size] = site
        rows[size] = measure.check_list_rows(site)
        pages = measure.product_pages(site)
        counts[size] = measure.query_counts(site, pages)
        unmeasured = measure.unmeasured_routes(pages)
    times = measure.time_pages(sites, rounds=args.rounds, blocks=args.blocks, switch=switch)
    return {"times": {size: {label: measure.summary(v) for label, v in t.items()} for size, t in times.items()},
            "queries": counts, "rows": rows, "unmeasured": unmeasured}


def task_report(args):
    from django.utils import timezone

    from . import measure

    today = timezone.localdate()
    return measure.measure_report(today.year - 1, today, args.repetitions)


def task_export(args):
    from . import measure

    baseline = rss_mb()
    result = measure.measure_export(args.file)
    return {**result, "baseline_mb": baseline, "peak_mb": peak_mb()}


def task_export_floor(args):
    from . import measure

    with tempfile.TemporaryDirectory() as tmp:
        return measure.bare_write(args.file, os.path.join(tmp, "bare.xlsx"))


def task_import(args):
    from django.utils import timezone

    from suggestions import spreadsheets
    from suggestions.models import Suggestion

    from . import measure

    today = timezone.localdate()
    with tempfile.TemporaryDirectory() as tmp:
        created = os.path.join(tmp, "new.xlsx")
        measure.new_rows_file(created, args.create_rows, today.year)
        new = {"import": measure.measure_import(created), "parse": measure.parse(created)}
        again = os.path.join(tmp, "again.xlsx")
        latest = Suggestion.objects.order_by("-year", "number", "pk").values("pk")[:args.reimport_rows]
        spreadsheets.write_export(Suggestion.objects.filter(pk__in=latest), again)
        round_trip = {"import": measure.measure_import(again), "parse": measure.parse(again)}
    return {"new": new, "round_trip": round_trip}


def task_reminders(args):
    from django.utils import timezone

    from . import measure

    today = timezone.localdate()
    return {"staffed": measure.measure_reminders(today, args.open),
            "seed_users": measure.measure_reminders(today, args.open, staffed=False)}


TASKS = {"pages": task_pages, "report": task_report, "export": task_export, "export-floor": task_export_floor,
         "import": task_import, "reminders": task_reminders}


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m bench.worker")
    parser.add_argument("task", choices=TASKS)
    parser.add_argument("--out", required=True)
    parser.add_argument("--sizes", type=lambda v: [int(x) for x in v.split(",")], default=[])
    parser.add_argument("--databases", type=lambda v: v.split(","), default=[])
    parser.add_argument("--rounds", type=int, default=40)
    parser.add_argument("--blocks", type=int, default=8)
    parser.add_argument("--repetitions", type=int, default=7)
    parser.add_argument("--file")
    parser.add_argument("--create-rows", type=int, default=10000)
    parser.add_argument("--reimport-rows", type=int, default=10000)
    parser.add_argument("--open", type=int, default=100000)
    args = parser.parse_args(argv)
    setup()
    result = TASKS[args.task](args)
    Path(args.out).write_text(json.dumps(result, default=_json, ensure_ascii=False))


def _json(value):
    if isinstance(value, dt.date):
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} is not JSON")


if __name__ == "__main__":
    sys.exit(main())
