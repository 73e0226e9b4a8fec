"""The table of a run and its targets (issue 9), each PASS or FAIL."""
from dataclasses import dataclass

LIST_FLOOR_RATIO = 2.0  # list p50 within 2× its floor
LIST_GROWTH = 1.3  # list p50 growing less than 1.3× from 10,000 to 100,000 suggestions
REPORT_FLOOR_RATIO = 2.0
EXPORT_FLOOR_RATIO = 1.5
# Flat: ten times the rows may not double the memory the export takes above the process's own.
EXPORT_MEMORY_GROWTH = 2.0
IMPORT_PARSE_RATIO = 3.0
REMINDER_SECONDS = 5.0
SEED_SECONDS = 180.0


@dataclass
class Target:
    name: str
    value: str
    ok: bool

    def line(self):
        return f"{'PASS' if self.ok else 'FAIL'}  {self.name}: {self.value}"


def ms(seconds):
    return f"{1000 * seconds:.1f} ms"


def _k(size):
    return f"{int(size) // 1000}k"


def _sizes(results):
    return sorted(int(s) for s in results["pages"]["times"]) if "pages" in results else sorted(
        int(s) for s in results.get("databases", {}))


def evaluate(results):
    """The targets a run's results meet or miss."""
    targets = []
    sizes = _sizes(results)
    small, large = (sizes[0], sizes[-1]) if sizes else (None, None)
    pages = results.get("pages")
    if pages:
        times = pages["times"]
        for role in ("coordinator", "handler"):
            for size in sizes:
                t = times[str(size)]
                ratio = t[f"list {role}"]["p50"] / t[f"list floor {role}"]["p50"]
                targets.append(Target(f"list p50 ({role}, {_k(size)}) within {LIST_FLOOR_RATIO}× its floor",
                                      f"{ratio:.2f}×", ratio <= LIST_FLOOR_RATIO))
            if small != large:
                growth = times[str(large)][f"list {role}"]["p50"] / times[str(small)][f"list {role}"]["p50"]
                targets.append(Target(f"list p50 ({role}) growth {_k(small)} → {_k(large)} < {LIST_GROWTH}×",
                                      f"{growth:.2f}×", growth < LIST_GROWTH))
        counts = pages["queries"]
        unequal = [label for label in counts[str(small)]
                   if counts[str(small)][label][1] != counts.get(str(large), {}).get(label, [None, None])[1]]
        targets.append(Target(f"query counts equal at {_k(small)} and {_k(large)} ({len(counts[str(small)])} pages)",
                              "all equal" if not unequal else "different: " + ", ".join(unequal), not unequal))
    report = results.get("report", {}).get(str(large))
    if report:
        ratio = report["report"]["p50"] / report["floor"]["p50"]
        targets.append(Target(f"annual report ({_k(large)}) within {REPORT_FLOOR_RATIO}× its SQL floor",
                              f"{ratio:.2f}×", ratio <= REPORT_FLOOR_RATIO))
    export = results.get("export", {})
    if str(large) in export:
        e = export[str(large)]
        ratio = e["product"]["seconds"] / e["floor"]["seconds"]
        targets.append(Target(f"export of {e['product']['rows']:,} rows within {EXPORT_FLOOR_RATIO}× bare openpyxl",
                              f"{ratio:.2f}×", ratio <= EXPORT_FLOOR_RATIO))
        if str(small) in export and small != large:
            grown = _export_memory(export[str(large)]) / max(_export_memory(export[str(small)]), 1.0)
            targets.append(Target(
                f"export peak memory flat ({export[str(small)]['product']['rows']:,} → "
                f"{e['product']['rows']:,} rows: < {EXPORT_MEMORY_GROWTH}× above the process's own)",
                f"{_export_memory(export[str(small)]):.0f} MB → {_export_memory(e):.0f} MB ({grown:.2f}×)",
                grown < EXPORT_MEMORY_GROWTH))
    imports = results.get("import")
    if imports:
        for kind, label in (("new", "new suggestions"), ("round_trip", "an export re-imported")):
            i = imports[kind]
            ratio = i["import"]["seconds"] / i["parse"]["seconds"]
            targets.append(Target(f"import of {i['import']['rows']:,} rows ({label}) within {IMPORT_PARSE_RATIO}× "
                                  "of parsing", f"{ratio:.1f}×", ratio <= IMPORT_PARSE_RATIO))
    scan = results.get("reminders", {}).get(str(large), {}).get("staffed")
    if scan:
        targets.append(Target(f"reminder scan over {scan['open']:,} open assignments < {REMINDER_SECONDS:.0f} s",
                              f"{scan['seconds']:.2f} s", scan["seconds"] < REMINDER_SECONDS))
    for size, db in sorted(results.get("databases", {}).items(), key=lambda x: int(x[0])):
        if db.get("seeded_seconds") is not None and int(size) >= 100_000:
            targets.append(Target(f"seeding {int(size):,} suggestions < {SEED_SECONDS:.0f} s",
                                  f"{db['seeded_seconds']:.0f} s", db["seeded_seconds"] < SEED_SECONDS))
    return targets


def _best_of(results, beside=None):
    """How a measurement made a few times is given: its fastest run (`bench.__main__.fastest`)."""
    runs = results.get("runs", 1)
    return f"; the fastest of {runs} runs" + (f", alternately with {beside}" if beside else "") if runs > 1 else ""


def _export_memory(e):
    return e["product"]["peak_mb"] - e["product"]["baseline_mb"]


def table(results):
    """The run as text: machine, figures at each size, query counts, targets."""
    out = []
    m = results.get("machine", {})
    if m:
        out.append(f"Machine: {m['cpus']} CPUs, {m['memory_gb']:.0f} GB, {m['postgres']}, Python {m['python']}, "
                   f"Django {m['django']}; load average {m['load_before']} before, {m['load_after']} after")
    sizes = _sizes(results)
    pages = results.get("pages")
    if pages:
        t = pages["times"]
        out.append("")
        out.append("Pages through the test client, DEBUG off (p50 / p95; ratio of p50s)")
        head = f"{'':34}" + "".join(f"{_k(s) + ' p50':>12}{'p95':>10}" for s in sizes)
        if len(sizes) > 1:
            head += f"{'growth':>9}"
        out.append(head)
        labels = list(t[str(sizes[0])])
        for label in labels:
            row = f"{label:34}" + "".join(f"{ms(t[str(s)][label]['p50']):>12}{ms(t[str(s)][label]['p95']):>10}"
                                          for s in sizes)
            if len(sizes) > 1:
                row += f"{t[str(sizes[-1])][label]['p50'] / t[str(sizes[0])][label]['p50']:>8.2f}×"
            out.append(row)
        for role in ("coordinator", "handler"):
            for floor, name in ((f"list floor {role}", "its floor"), (f"list bare SQL {role}", "bare SQL")):
                ratios = "".join(f"{t[str(s)][f'list {role}']['p50'] / t[str(s)][floor]['p50']:>11.2f}×{'':10}"
                                 for s in sizes)
                out.append(f"{'  list ' + role + ' ÷ ' + name:34}{ratios}")
        for role in ("coordinator", "liaison", "handler", "leader"):
            ratios = "".join(f"{t[str(s)][f'dashboard {role}']['p50'] / t[str(s)]['page floor']['p50']:>11.2f}×"
                             f"{'':10}" for s in sizes)
            out.append(f"{'  dashboard ' + role + ' ÷ page floor':34}{ratios}")
        out.append("Rows on the list pages: " + ", ".join(
            f"{_k(s)}: " + ", ".join(f"{r} {n}" for r, n in pages["rows"][str(s)].items()) for s in sizes))
    report = results.get("report")
    if report:
        out.append("")
        out.append("Annual report of the last full year, as of today (queries.annual: every table; p50)")
        for size in sizes:
            r = report.get(str(size))
            if r:
                out.append(f"  {_k(size)}: {r['items']:,} items, report {ms(r['report']['p50'])} "
                           f"({r['queries']} queries), SQL floor {ms(r['floor']['p50'])}, "
                           f"ratio {r['report']['p50'] / r['floor']['p50']:.2f}×")
                if "tables_floor" in r:  # for information: every table of the report in hand-written SQL
                    tables = r["tables_floor"]["p50"]
                    out.append(f"       all its tables in one hand-written SQL statement {ms(tables)}: "
                               f"{tables / r['floor']['p50']:.2f}× the floor; "
                               f"the report {r['report']['p50'] / tables:.2f}× it")
    export = results.get("export")
    if export:
        out.append("")
        out.append(f"Export (.xlsx, every suggestion; peak RSS of its own process{_best_of(results, 'the floor')})")
        for size in sizes:
            e = export.get(str(size))
            if e:
                p, f = e["product"], e["floor"]
                out.append(f"  {p['rows']:,} rows: export {p['seconds']:.1f} s, bare openpyxl {f['seconds']:.1f} s, "
                           f"ratio {p['seconds'] / f['seconds']:.2f}×; peak {p['peak_mb']:.0f} MB, "
                           f"{_export_memory(e):.0f} MB above the process before it ({p['baseline_mb']:.0f} MB)")
    imports = results.get("import")
    if imports:
        out.append("")
        out.append(f"Import (at {_k(imports['size'])} suggestions; rolled back{_best_of(results, 'the parsing')})")
        for kind, label in (("new", "new suggestions"), ("round_trip", "an export re-imported unchanged")):
            i = imports[kind]
            out.append(f"  {i['import']['rows']:,} rows, {label}: import {i['import']['seconds']:.1f} s "
                       f"({1000 * i['import']['seconds'] / i['import']['rows']:.1f} ms a row), "
                       f"parse {i['parse']['seconds']:.2f} s, "
                       f"ratio {i['import']['seconds'] / i['parse']['seconds']:.1f}×")
            if "database_seconds" in i["import"]:  # for information: the statements alone, against parsing
                db = i["import"]["database_seconds"]
                out.append(f"       of which its database statements {db:.1f} s, "
                           f"{db / i['parse']['seconds']:.1f}× the parsing")
    scan = results.get("reminders")
    if scan:
        out.append("")
        out.append(f"Reminder scan (reserve and deliver; rolled back{_best_of(results)})")
        for size in sizes:
            for kind, label in (("staffed", "every department staffed"), ("seed_users", "the seed's users only")):
                r = scan.get(str(size), {}).get(kind)
                if r:
                    out.append(f"  {_k(size)}, {label}: {r['open']:,} open assignments, {r['due']:,} due or "
                               f"overdue, {r['reserved']:,} reminders, {r['digests']:,} digests: {r['seconds']:.2f} s")
    if pages:
        counts = pages["queries"]
        out.append("")
        out.append("Queries per page (status, queries)")
        out.append(f"{'':44}" + "".join(f"{_k(s):>12}" for s in sizes))
        for label in counts[str(sizes[0])]:
            out.append(f"{label:44}" + "".join(
                f"{'{}, {}'.format(*counts[str(s)].get(label, ('-', '-'))):>12}" for s in sizes))
        if pages.get("unmeasured"):
            out.append("Routes not measured (new pages?): " + ", ".join(pages["unmeasured"]))
    out.append("")
    out.append("Targets")
    out += ["  " + t.line() for t in evaluate(results)]
    return "\n".join(out)
