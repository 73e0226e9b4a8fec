"""`python -m bench` (`make bench`): build the databases, run every measurement, print the table.

Exit status 0 when every target passes, 1 otherwise. The table and the raw figures are kept in
var/bench/latest.txt and latest.json.
"""
import argparse
import json
import os
import platform
import secrets
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlsplit

from . import database, targets

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "var" / "bench"
WORKER_TIMEOUT = 3600  # seconds; no single measurement takes near that on the reference machine


def worker_env(url, secret):
    """Production-like settings: DEBUG off (no query log, cached templates), no Redis, quiet logs."""
    return {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings", "DATABASE_URL": url, "DEBUG": "0",
            "SECRET_KEY": secret, "SECURE_SSL_REDIRECT": "0", "ALLOWED_HOSTS": "testserver", "LOG_LEVEL": "WARNING",
            "REDIS_URL": "", "DB_CONN_MAX_AGE": "600"}


def run_worker(task, url, secret, *args):
    with tempfile.NamedTemporaryFile(suffix=".json", delete=False) as f:
        out = f.name
    try:
        started = time.monotonic()
        subprocess.run([sys.executable, "-m", "bench.worker", task, "--out", out, *map(str, args)], cwd=ROOT,
                       env=worker_env(url, secret), check=True, timeout=WORKER_TIMEOUT)
        print(f"  {task} {' '.join(map(str, args))[:60]}: {time.monotonic() - started:.0f} s", flush=True)
        return json.loads(Path(out).read_text())
    finally:
        os.unlink(out)


def machine(db):
    import django
    import psycopg2

    parts = urlsplit(db.url)
    conn = psycopg2.connect(host=parts.hostname, port=parts.port or 5432, user=parts.username,
                            password=parts.password, dbname=db.name)
    try:
        with conn.cursor() as cursor:
            cursor.execute("SHOW server_version")
            version = cursor.fetchone()[0]
    finally:
        conn.close()
    memory = 0
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemTotal:"):
            memory = int(line.split()[1]) / 2**20
    return {"cpus": os.cpu_count(), "memory_gb": memory, "postgres": f"PostgreSQL {version}",
            "python": platform.python_version(), "django": django.get_version(),
            "load_before": " ".join(f"{x:.1f}" for x in os.getloadavg())}


TASKS = ("pages", "report", "export", "import", "reminders")


def fastest(runs):
    """The run that took least time. A long measurement made once is slowed by whatever else the shared
    machine does meanwhile, by a tenth to a quarter here; the least disturbed of a few runs, each
    alternated with its floor's, is its cost (as `timeit` takes the minimum)."""
    return min(runs, key=lambda run: run["seconds"])


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--sizes", default=f"10000,{database.NATIONAL}",
                        help="suggestions in each database (default: 10000,100000)")
    parser.add_argument("--only", default=",".join(TASKS), help="measurements to run: " + ",".join(TASKS))
    parser.add_argument("--rounds", type=int, default=40, help="requests per page and size")
    parser.add_argument("--repetitions", type=int, default=7, help="runs of the annual report and its floor")
    parser.add_argument("--create-rows", type=int, default=10000,
                        help="rows of new suggestions imported (the ratio to parsing is per row)")
    parser.add_argument("--reimport-rows", type=int, default=10000, help="rows of the re-imported export")
    parser.add_argument("--runs", type=int, default=2,
                        help="runs of the export, the import and the reminder scan, each kept at its fastest")
    args = parser.parse_args(argv)
    sizes = sorted(int(s) for s in args.sizes.split(","))
    only = set(args.only.split(","))
    secret = secrets.token_urlsafe(64)

    print("Databases", flush=True)
    dbs = {size: database.ensure(size) for size in sizes}
    large = dbs[sizes[-1]]
    results = {"machine": machine(large), "databases": {
        size: {"name": db.name, "seeded_seconds": db.seeded_seconds} for size, db in dbs.items()}}

    print("Measurements", flush=True)
    if "pages" in only:
        results["pages"] = run_worker("pages", large.url, secret, "--sizes", ",".join(map(str, sizes)),
                                      "--databases", ",".join(dbs[s].name for s in sizes), "--rounds", args.rounds)
    if "report" in only:
        results["report"] = {size: run_worker("report", dbs[size].url, secret, "--repetitions", args.repetitions)
                             for size in sizes}
    results["runs"] = args.runs
    if "export" in only:
        results["export"] = {}
        for size in sizes:
            products, floors = [], []
            with tempfile.TemporaryDirectory() as tmp:
                path = os.path.join(tmp, "export.xlsx")
                for _ in range(args.runs):
                    products.append(run_worker("export", dbs[size].url, secret, "--file", path))
                    floors.append(run_worker("export-floor", dbs[size].url, secret, "--file", path))
            results["export"][size] = {"product": fastest(products), "floor": fastest(floors)}
    if "import" in only:
        runs = [run_worker("import", large.url, secret, "--create-rows", args.create_rows,
                           "--reimport-rows", args.reimport_rows) for _ in range(args.runs)]
        results["import"] = {"size": large.size, **{
            kind: {part: fastest([run[kind][part] for run in runs]) for part in ("import", "parse")}
            for kind in ("new", "round_trip")}}
    if "reminders" in only:
        results["reminders"] = {}
        for size in sizes:
            runs = [run_worker("reminders", dbs[size].url, secret, "--open", size) for _ in range(args.runs)]
            results["reminders"][size] = {kind: fastest([run[kind] for run in runs]) for kind in runs[0]}
    results["machine"]["load_after"] = " ".join(f"{x:.1f}" for x in os.getloadavg())

    results = json.loads(json.dumps(results))  # keys as the JSON file has them
    text = targets.table(results)
    print()
    print(text)
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "latest.json").write_text(json.dumps(results, indent=1, ensure_ascii=False))
    (OUT / "latest.txt").write_text(text + "\n")
    return 0 if all(t.ok for t in targets.evaluate(results)) else 1


if __name__ == "__main__":
    sys.exit(main())
