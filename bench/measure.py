"""The measurements, each on the current database connection.

The worker (`bench.worker`) runs them on PostgreSQL at 10,000 and 100,000 suggestions; the smoke
test (tests/bench/test_bench_smoke.py) runs the same functions on a small SQLite database, so the
benchmark cannot rot unnoticed. Timings are wall-clock seconds (`time.perf_counter`); what writes
runs inside a transaction that is rolled back.
"""
import datetime as dt
import math
import random
import re
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from urllib.parse import urlencode

from django.contrib.auth import get_user_model
from django.contrib.contenttypes.models import ContentType
from django.core.cache import caches
from django.db import connection, transaction
from django.db.models import Count
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone
from openpyxl import Workbook, load_workbook

from departments import scoping
from departments.models import Department, Membership, Street
from reports import queries
from suggestions import deadlines, demo, reminders, spreadsheets
from suggestions.choices import OPEN_ASSIGNMENT_STATES, AssignmentState, Outcome, Rating, SuggestionState
from suggestions.models import Assignment, Category, Deputy, Suggestion

from . import floors

# The users `seed_bench` makes, by the role they stand for.
USERS = {"coordinator": "bench-office", "liaison": "bench-liaison", "handler": "bench-handler",
         "leader": "bench-leader"}
# A word of five of the seed's 43 title patterns (about one title in nine): 整治 (to clean up).
SEARCH = "整治"
PAGE_ROWS = 25
ROW_LINK = re.compile(r'href="/suggestions/(\d+)/"')


def percentile(values, p):
    """The nearest-rank percentile `p` (0–100) of `values`."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)]


def summary(values):
    return {"p50": percentile(values, 50), "p95": percentile(values, 95), "n": len(values)}


def switch_database(name):
    """Point the default connection at another database of the same server and schema; the next
    query reconnects. Caches that hold rows of the previous database are emptied."""
    connection.close()
    connection.settings_dict["NAME"] = name
    ContentType.objects.clear_cache()
    caches["default"].clear()


# --- the pages ------------------------------------------------------------------------------------

def list_query(role, year):
    """The list's two filters and text search: the office looks at one year's session items, a
    department at its replied session items of every year (a year alone holds too few of them)."""
    if role == "coordinator":
        return {"year": year, "source": "session", "q": SEARCH}
    return {"source": "session", "state": SuggestionState.REPLIED, "q": SEARCH}


def row_ids(html):
    """The suggestions a list page shows, in order (each row links to its detail page once)."""
    return list(dict.fromkeys(int(pk) for pk in ROW_LINK.findall(html)))


@dataclass
class Site:
    """One database's users, logged-in clients and the URLs measured on it."""

    today: dt.date
    year: int
    users: dict
    clients: dict = field(default_factory=dict)

    @classmethod
    def open(cls, today=None):
        today = today or timezone.localdate()
        User = get_user_model()
        users = {role: User.objects.get(username=name) for role, name in USERS.items()}
        site = cls(today=today, year=today.year - 1, users=users)
        for role, user in users.items():
            client = Client()
            client.force_login(user)
            site.clients[role] = client
        return site

    def list_url(self, role):
        return reverse("suggestions:list") + "?" + urlencode(list_query(role, self.year))

    def floor_url(self, role, bare=False):
        return reverse("bench_floor_list_bare" if bare else "bench_floor_list") + "?" + urlencode(
            list_query(role, self.year))

    def timed_pages(self):
        """(label, role, url) of the pages timed, each list beside its floors."""
        pages = []
        for role in ("coordinator", "handler"):
            pages += [(f"list {role}", role, self.list_url(role)), (f"list floor {role}", role, self.floor_url(role)),
                      (f"list bare SQL {role}", role, self.floor_url(role, bare=True))]
        # For information: the office's list as it opens, every suggestion of every year (no target).
        pages.append(("list unfiltered coordinator", "coordinator", reverse("suggestions:list")))
        pages += [(f"dashboard {role}", role, reverse("suggestions:dashboard")) for role in USERS]
        pages.append(("page floor", "coordinator", reverse("bench_floor_page")))
        return pages

    def get(self, role, url):
        response = self.clients[role].get(url)
        if response.status_code != 200:
            raise AssertionError(f"GET {url} as {role}: {response.status_code}")
        return response


def check_list_rows(site, min_rows=PAGE_ROWS):
    """The floor must show exactly the rows of the page it stands for; {role: rows shown}."""
    shown = {}
    for role in ("coordinator", "handler"):
        page = row_ids(site.get(role, site.list_url(role)).content.decode())
        for bare in (False, True):
            floor = row_ids(site.get(role, site.floor_url(role, bare)).content.decode())
            if page != floor:
                raise AssertionError(f"the floor of the {role}'s list shows other rows: {page} != {floor}")
        if len(page) < min_rows:
            raise AssertionError(f"the {role}'s list shows {len(page)} rows, fewer than {min_rows}")
        shown[role] = len(page)
    return shown


def time_pages(sites, rounds, blocks=1, switch=None):
    """{size: {label: [seconds]}}: every page of every site, `rounds` times in all.

    The sites are measured in alternating blocks (`switch(size)` selects one's database), pages in
    rotation within a block, so that a busy minute of the machine slows every figure alike. The
    first request after a switch reconnects and is not counted.
    """
    times = {size: {label: [] for label, _, _ in site.timed_pages()} for size, site in sites.items()}
    per_block = max(1, math.ceil(rounds / blocks))
    for _ in range(blocks):
        for size, site in sites.items():
            if switch:
                switch(size)
            site.get("coordinator", reverse("bench_floor_page"))
            for _ in range(per_block):
                for label, role, url in site.timed_pages():
                    started = time.perf_counter()
                    site.get(role, url)
                    times[size][label].append(time.perf_counter() - started)
    return times


# --- the query count of every page ------------------------------------------------------------------

def _first(queryset):
    return queryset.order_by("pk").values_list("pk", flat=True).first()


def representative(site):
    """A suggestion of the same shape at every size, for the pages of one suggestion: replied and
    published, one lead department (the bench handler's) and one co-handler, one reply, one rating."""
    handler_departments = scoping.access(site.users["handler"]).department_ids
    led = Assignment.objects.filter(department__in=handler_departments, role="lead").values("suggestion_id")
    candidates = Suggestion.objects.filter(state=SuggestionState.REPLIED, is_public=True, pk__in=led).order_by(
        "pk").values_list("pk", flat=True)
    for pk in candidates[:200]:
        roles = sorted(Assignment.objects.filter(suggestion_id=pk).values_list("role", flat=True))
        replies = Assignment.objects.filter(suggestion_id=pk).aggregate(n=Count("replies"))["n"]
        ratings = Suggestion.objects.filter(pk=pk).aggregate(n=Count("feedback"))["n"]
        if roles == ["co", "lead"] and replies == 1 and ratings == 1:
            return pk
    return None


def product_pages(site):
    """(label, role, url) of every page of the product that the seed has data for.

    Pages of one object use `representative`; the office's pages are asked as the coordinator, the
    departments' as the handler too. Downloads ask for the list's filtered rows.
    """
    pk = representative(site)
    key = _first(Suggestion.objects.filter(is_key=True, state=SuggestionState.REPLIED, is_public=True))
    year_query = "?" + urlencode({"year": site.year, "as_of": site.today.isoformat()})
    export_query = "?" + urlencode(list_query("coordinator", site.year))
    pages = [
        ("dashboard", "suggestions:dashboard", {}, ""),
        ("list", "suggestions:list", {}, ""),
        ("list, filtered", "suggestions:list", {}, "?" + urlencode(list_query("coordinator", site.year))),
        ("list, page 40", "suggestions:list", {}, "?page=40"),
        ("register", "suggestions:create", {}, ""),
        ("detail", "suggestions:detail", {"pk": pk}, ""),
        ("edit", "suggestions:edit", {"pk": pk}, ""),
        ("notifications", "suggestions:notifications", {}, ""),
        ("reminders", "suggestions:reminders", {}, ""),
        ("import", "suggestions:import", {}, ""),
        ("import template", "suggestions:import_template", {}, ""),
        ("export (list's filters)", "suggestions:export", {}, export_query),
        ("report", "reports:annual", {}, year_query),
        ("report .xlsx", "reports:annual_xlsx", {}, year_query),
        ("report .docx", "reports:annual_docx", {}, year_query),
        ("audit trail", "audit:list", {}, ""),
        ("supervision", "supervision:dashboard", {}, ""),
        ("key suggestion", "supervision:key_detail", {"pk": key}, ""),
        ("re-checks", "supervision:recheck_list", {}, ""),
        ("reviews", "supervision:review_list", {}, ""),
        ("classes", "supervision:class_list", {}, ""),
        ("public list", "public:list", {}, ""),
        ("public detail", "public:detail", {"pk": pk}, ""),
    ]
    found = []
    for label, name, kwargs, query in pages:
        if any(v is None for v in kwargs.values()):
            continue
        url = reverse(name, kwargs=kwargs) + query
        found.append((f"{label} (coordinator)", "coordinator", url))
        if name in DEPARTMENT_PAGES:
            found.append((f"{label} (handler)", "handler", url))
    found += [(f"dashboard ({role})", role, reverse("suggestions:dashboard")) for role in ("liaison", "leader")]
    return found


DEPARTMENT_PAGES = {"suggestions:dashboard", "suggestions:list", "suggestions:detail", "suggestions:notifications",
                    "suggestions:reminders", "reports:annual", "public:list", "public:detail"}
# Routes not in `product_pages`, with the reason; any other route is reported as not measured.
NOT_PAGES = {
    "healthz": "a probe, no page",
    "login": "anonymous", "logout": "POST only", "password_change": "a form", "password_change_done": "a message",
    "suggestions:suggestion_step": "POST only", "suggestions:assignment_step": "POST only",
    "suggestions:reply_step": "POST only", "suggestions:extension_step": "POST only",
    "suggestions:reply_attachment": "the seed has no attachments", "suggestions:import_job": "no import job",
    "audit:export": "a download of the audit trail",
    "suggestions:export_job": "no background export in the seed", "suggestions:export_file": "a file, no page",
    "supervision:recheck_detail": "no re-check in the seed", "supervision:sample_detail": "no re-check in the seed",
    "supervision:review_detail": "no review in the seed", "supervision:review_item": "no review in the seed",
    "supervision:review_item_step": "POST only", "supervision:class_detail": "no class in the seed",
    "supervision:class_link": "POST only", "supervision:class_together": "POST only",
    "supervision:class_unlink": "POST only", "supervision:recheck_create": "POST only",
    "supervision:review_create": "POST only", "set_language": "POST only",
}


def _route_names(patterns, namespace=None):
    for p in patterns:
        if isinstance(p, URLResolver):
            if p.namespace == "admin":
                continue  # Django's admin, for reference data
            inner = ":".join(x for x in (namespace, p.namespace) if x) or None
            yield from _route_names(p.url_patterns, inner)
        elif isinstance(p, URLPattern) and p.name and not p.name.startswith("bench_"):
            yield f"{namespace}:{p.name}" if namespace else p.name


def unmeasured_routes(pages):
    """Named routes neither measured nor known not to be pages: a page added since this was written."""
    measured = {get_resolver().resolve(url.split("?")[0]).view_name for _, _, url in pages}
    return sorted(set(_route_names(get_resolver().url_patterns)) - measured - set(NOT_PAGES))


def _get(client, url):
    response = client.get(url)
    if getattr(response, "streaming", False):
        b"".join(response.streaming_content)
    return response


def query_counts(site, pages):
    """{label: (status, queries)} of a GET of each page, the second one: a first view may fill a
    cache once (the similar suggestions of a detail page are computed when first asked for)."""
    counts = {}
    for label, role, url in pages:
        _get(site.clients[role], url)
        with CaptureQueriesContext(connection) as captured:
            response = _get(site.clients[role], url)
        counts[label] = (response.status_code, len(captured))
    return counts


# --- the annual report ----------------------------------------------------------------------------

def measure_report(year, as_of, repetitions):
    """The whole annual report (`reports.queries.annual`, every table) as the report page computes it
    for the coordinator, against the outcome table in one GROUP BY, alternately; checks that both
    count the same. On PostgreSQL also, for information, against every table of the report in
    hand-written SQL (`floors.report_tables`), checked table by table against the report."""
    params = queries.Params(year=year, as_of=as_of)
    previous_as_of = queries.year_earlier(as_of)
    office = get_user_model().objects.get(username=USERS["coordinator"])
    whole = connection.vendor == "postgresql"
    report_times, floor_times, tables_times = [], [], []
    for _ in range(repetitions):
        office = get_user_model().objects.get(pk=office.pk)  # each request reads its user afresh
        started = time.perf_counter()
        report = queries.annual(office, params)
        report_times.append(time.perf_counter() - started)
        started = time.perf_counter()
        table = floors.outcome_table(year, as_of)
        floor_times.append(time.perf_counter() - started)
        if whole:
            started = time.perf_counter()
            rows = floors.report_tables(year, as_of, previous_as_of)
            tables_times.append(time.perf_counter() - started)
    for outcome in Outcome.values:
        if table.get(outcome, 0) != report["outcomes"][outcome]["count"]:
            raise AssertionError(f"report and floor disagree on {outcome}: {report['outcomes']} != {table}")
    if sum(table.values()) != report["total"] or sum(n for o, n in table.items() if o) != report["replied"]:
        raise AssertionError(f"report and floor disagree on the totals: {report['total']}, {table}")
    if whole:
        check_report_tables(report, rows, year)
    with CaptureQueriesContext(connection) as captured:
        queries.annual(get_user_model().objects.get(pk=office.pk), params)
    return {"report": summary(report_times), "floor": summary(floor_times), "queries": len(captured),
            "items": report["total"], **({"tables_floor": summary(tables_times)} if whole else {})}


def _report_figures(headline):
    satisfaction = headline["satisfaction"]
    return {"total": headline["total"], "replied": headline["replied"], "on_time": headline["replied_on_time"],
            "key": headline["key_suggestions"], "public": headline["public"],
            "outcomes": {o: headline["outcomes"][o]["count"] for o in Outcome.values},
            "result": {r: satisfaction["result"][r] for r in Rating.values},
            "attitude": {r: satisfaction["attitude"][r] for r in Rating.values}}


def check_report_tables(report, rows, year):
    """The tables of `floors.report_tables`' rows must be the report's, figure for figure."""
    names = {"category": dict(Category.objects.values_list("pk", "name")),
             "street": dict(Street.objects.values_list("pk", "name")),
             "department": dict(Department.objects.values_list("pk", "name"))}
    years = {y: {"total": 0, "replied": 0, "on_time": 0, "key": 0, "public": 0, "outcomes": Counter(),
                 "result": Counter(), "attitude": Counter()} for y in (year, year - 1)}
    dims = {"category": defaultdict(Counter), "street": defaultdict(Counter), "source": defaultdict(Counter)}
    months, departments = Counter(), defaultdict(Counter)
    for grouping, y, category, street, source, outcome, pair, month, department, *n in rows:
        if grouping == 3:  # by category, street, source and outcome
            figures = years[y]
            for key, value in zip(("total", "replied", "on_time", "key", "public"), n, strict=True):
                figures[key] += value
            if outcome:
                figures["outcomes"][outcome] += n[1]
            if y == year:
                for dim, key in (("category", names["category"].get(category)),
                                 ("street", names["street"].get(street)), ("source", source)):
                    if key is not None:
                        row = dims[dim][key]
                        row.update(total=n[0], replied=n[1], on_time=n[2], **({outcome: n[1]} if outcome else {}))
        elif grouping == 5 and pair:  # by ratings
            result, attitude = pair.split(" ")
            years[y]["result"][result] += n[0]
            years[y]["attitude"][attitude] += n[0]
        elif grouping == 6 and y == year and month and n[1]:  # replies by month
            months[month.strftime("%Y-%m")] += n[1]
        elif grouping == -1:  # by department
            row = departments[names["department"][department]]
            row.update(lead=n[0], co=n[1], replied=n[2], on_time=n[3], **({outcome: n[2]} if outcome else {}))
    solved, both = Outcome.SOLVED, (Outcome.SOLVED, Outcome.IN_PROGRESS)

    def every_value(figures):  # zeros written out, as the report writes them
        return {**figures, "outcomes": {o: figures["outcomes"][o] for o in Outcome.values},
                "result": {r: figures["result"][r] for r in Rating.values},
                "attitude": {r: figures["attitude"][r] for r in Rating.values}}

    def solved_of(dim):
        return {k: (r["total"], r["replied"], r[solved], sum(r[o] for o in both)) for k, r in dims[dim].items()}

    expected = {
        "headline": every_value(years[year]),
        "previous": every_value(years[year - 1]),
        "by_category": solved_of("category"),
        "by_street": solved_of("street"),
        "by_source": {k: (r["total"], r["replied"], r["on_time"], r[solved], sum(r[o] for o in both))
                      for k, r in dims["source"].items()},
        "by_month": dict(months),
        "by_department": {k: (r["lead"], r["co"], r["replied"], r["on_time"], *(r[o] for o in Outcome.values))
                          for k, r in departments.items()},
    }
    got = {
        "headline": _report_figures(report),
        "previous": _report_figures(report["previous_year"]),
        "by_category": {r["category"]: (r["total"], r["replied"], r["solved"], r["solved_or_in_progress"])
                        for r in report["by_category"]},
        "by_street": {r["street"]: (r["total"], r["replied"], r["solved"], r["solved_or_in_progress"])
                      for r in report["by_street"]},
        "by_source": {r["source"]: (r["total"], r["replied"], r["on_time"], r["solved"], r["solved_or_in_progress"])
                      for r in report["by_source"]},
        "by_month": {r["month"]: r["replied"] for r in report["by_month"]},
        "by_department": {r["department"]: (r["lead"], r["co"], r["replied"], r["on_time"],
                                            *(r[o] for o in Outcome.values)) for r in report["by_department"]},
    }
    for name, value in got.items():
        if value != expected[name]:
            raise AssertionError(f"the report and its tables in SQL disagree on {name}: {value} != {expected[name]}")


# --- the export -----------------------------------------------------------------------------------

def measure_export(path, queryset=None):
    """The product's export (`spreadsheets.write_export`) of `queryset` (default: every suggestion)."""
    queryset = Suggestion.objects.all() if queryset is None else queryset
    started = time.perf_counter()
    rows = spreadsheets.write_export(queryset, path)
    return {"seconds": time.perf_counter() - started, "rows": rows}


def bare_write(source, target):
    """The floor of the export: the cells of the exported file (read first, not timed) written by
    bare openpyxl in write-only mode, no styles, no checks."""
    wb = load_workbook(source, read_only=True)
    cells = list(wb.worksheets[0].iter_rows(values_only=True))
    wb.close()
    started = time.perf_counter()
    out = Workbook(write_only=True)
    ws = out.create_sheet()
    for row in cells:
        ws.append(row)
    out.save(target)
    return {"seconds": time.perf_counter() - started, "rows": len(cells) - 1}


# --- the import -----------------------------------------------------------------------------------

def new_rows_file(path, rows, year, seed=9):
    """A spreadsheet of `rows` new suggestions as an office would import a year's list: the seed's
    kinds of titles, existing deputies and departments, a co-handler for half of them."""
    rng = random.Random(seed)
    departments = list(Department.objects.order_by("pk").values_list("name", flat=True))
    categories = list(Category.objects.order_by("pk").values_list("name", flat=True))
    streets = list(Street.objects.order_by("pk").values_list("name", flat=True))
    deputies = list(Deputy.objects.order_by("pk").values_list("name", flat=True)[:500]) or ["王建国"]
    wb = Workbook(write_only=True)
    ws = wb.create_sheet()
    ws.append(spreadsheets.HEADERS)
    for i in range(1, rows + 1):
        matter = rng.choice(demo.MATTERS)
        street = rng.choice(streets)
        place = demo.place_for(rng, matter, street) if street in demo.PLACES else street
        lead, co = rng.sample(departments, 2)
        cells = {"年度": year, "建议号": f"I{i:05d}", "标题": demo.title_for(matter, place),
                 "内容": demo.content_for(rng, matter, place), "来源": "闭会期间", "领衔代表": rng.choice(deputies),
                 "附议代表": rng.choice(deputies) if i % 3 == 0 else None, "类别": rng.choice(categories),
                 "街镇": street, "主办单位": lead, "会办单位": co if i % 2 else None,
                 "交办日期": dt.date(year, 3, 2)}
        ws.append([cells.get(h) for h in spreadsheets.HEADERS])
    wb.save(path)


def parse(path):
    """The floor of the import: bare openpyxl reading every cell of the file, read-only."""
    started = time.perf_counter()
    wb = load_workbook(path, read_only=True)
    rows = sum(1 for _ in wb.worksheets[0].iter_rows(values_only=True)) - 1
    wb.close()
    return {"seconds": time.perf_counter() - started, "rows": rows}


def measure_import(path):
    """The product's import of a file (checked, then written by the workflow), rolled back afterwards;
    with, for information, the time its database statements took (what no code of ours can shorten)."""
    in_database = []

    def timed(execute, sql, params, many, context):
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            in_database.append(time.perf_counter() - started)

    with transaction.atomic(), connection.execute_wrapper(timed):
        started = time.perf_counter()
        result = spreadsheets.import_file(str(path))
        seconds = time.perf_counter() - started
        transaction.set_rollback(True)
    if not result.ok:
        raise AssertionError("the import refused the file: " + "; ".join(i.text() for i in result.issues[:5]))
    return {"seconds": seconds, "rows": result.total_rows, "created": len(result.created),
            "updated": len(result.updated), "unchanged": result.unchanged, "database_seconds": sum(in_database)}


# --- the reminder scan ----------------------------------------------------------------------------

def open_assignments(count, today):
    """Make `count` assignments open (being handled), their deadlines spread over the working days
    from 20 before `today` to 80 after it: what a national system holds on a busy day."""
    days = [deadlines.add_workdays(today, n) for n in range(0, 81)]
    day = today
    for _ in range(20):
        day -= dt.timedelta(days=1)
        while not deadlines.is_workday(day):
            day -= dt.timedelta(days=1)
        days.append(day)
    ids = list(Assignment.objects.exclude(state=AssignmentState.RETURNED)
               .exclude(suggestion__state=SuggestionState.WITHDRAWN)
               .order_by("-pk").values_list("pk", flat=True)[:count])
    for i, due in enumerate(days):
        chunk = ids[i::len(days)]
        for start in range(0, len(chunk), 5000):
            Assignment.objects.filter(pk__in=chunk[start:start + 5000]).update(
                state=AssignmentState.HANDLING, due_date=due)
    return Assignment.objects.filter(state__in=OPEN_ASSIGNMENT_STATES).count()


def staff_every_department():
    """A case officer and a leader, with e-mail, in every department that has nobody."""
    User = get_user_model()
    empty = list(Department.objects.exclude(pk__in=Membership.objects.values("department_id"))
                 .values_list("pk", flat=True))
    users = User.objects.bulk_create([User(username=f"bench-{pk}-{role}", email=f"bench-{pk}-{role}@bench.example",
                                           password="!") for pk in empty for role in Membership.Role.values])
    by_name = {u.username: u for u in users}
    if connection.vendor != "postgresql" and any(u.pk is None for u in users):
        by_name = {u.username: u for u in User.objects.filter(username__in=list(by_name))}
    Membership.objects.bulk_create([Membership(user=by_name[f"bench-{pk}-{role}"], department_id=pk, role=role)
                                    for pk in empty for role in Membership.Role.values])
    return len(users)


def measure_reminders(today, open_count, staffed=True):
    """The daily scan (`reminders.scan`, reserve and deliver) over `open_count` open assignments,
    with every department staffed (a digest each for hundreds of people) or with the seed's users
    only (the finding and recording, few digests); rolled back afterwards."""
    with transaction.atomic():
        opened = open_assignments(open_count, today)
        staffed = staff_every_department() if staffed else 0
        due = reminders.due_items(today).count()
        started = time.perf_counter()
        result = reminders.scan(today)
        seconds = time.perf_counter() - started
        transaction.set_rollback(True)
    return {"seconds": seconds, "open": opened, "due": due, "reserved": result.reserved,
            "digests": result.notifications, "emails": result.emails, "new_staff": staffed}
