"""Excel in and out: the import template of CONTRACT.md, its checks, the import and the export.

One row of the template is one suggestion. The export writes, for every suggestion, exactly what
an import of that row would leave in the database (`Record`), so an export re-imports as "nothing
changed", and the import decides what a row changes by comparing it with that same `Record`.

The import is all or nothing: the file is read and checked first (every error, by row and
column), then every row goes through `suggestions.workflow` inside one transaction; any error
there rolls the whole file back. A dry run is the same run, always rolled back, so its preview
of what would be created, updated and refused is exactly what the import will do.
"""
import contextlib
import datetime as dt
import difflib
import itertools
import logging
import os
import re
import tempfile
import time
import uuid
import zipfile
from dataclasses import dataclass, field

from celery import shared_task
from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import DatabaseError, transaction
from django.db.models import OuterRef, Prefetch, Subquery
from django.http import QueryDict
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop as N_
from openpyxl import Workbook, load_workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter
from openpyxl.utils.datetime import from_excel
from openpyxl.worksheet.datavalidation import DataValidation

from audit import context as audit_context
from departments.models import Department, Street

from . import deadlines, notifications, workflow
from .choices import (
    OPEN_ASSIGNMENT_STATES,
    OUTCOME_ALIASES,
    OUTCOME_LABELS_ZH,
    RATING_ALIASES,
    RATING_LABELS_ZH,
    SOURCE_ALIASES,
    AssignmentRole,
    AssignmentState,
    Rating,
    Source,
    SuggestionState,
)
from .filters import for_user
from .models import (
    Assignment,
    Category,
    Deputy,
    ExportJob,
    Feedback,
    ImportJob,
    OutcomeRecord,
    ProgressNote,
    Suggestion,
)

log = logging.getLogger(__name__)

# --- the template -----------------------------------------------------------------------------

HEADERS = ["年度", "建议号", "标题", "内容", "来源", "领衔代表", "附议代表", "类别", "街镇", "主办单位", "会办单位",
           "交办日期", "办复期限", "重点建议", "督办领导", "办理结果", "答复日期", "结果更新日期", "结果满意度",
           "态度满意度", "是否公开"]
# Written by the export after the template's columns, ignored by the import.
COMPUTED = ["状态", "是否按期", "最新进展"]
ATTRS = dict(zip(HEADERS, [
    "year", "number", "title", "content", "source", "lead_deputy", "co_deputies", "category", "street",
    "lead_departments", "co_departments", "assigned_on", "due_date", "is_key", "supervising_leader", "outcome",
    "reply_date", "outcome_changed_on", "result", "attitude", "is_public"], strict=True))
HEADER_OF = {attr: header for header, attr in ATTRS.items()}
# A header that must be in the file; the first four must be filled on every row.
REQUIRED_HEADERS = ["年度", "建议号", "标题", "领衔代表", "主办单位", "交办日期"]
ALWAYS_FILLED = ("year", "number", "title", "lead_deputy")
# 主办单位 and 交办日期 must be filled on a new row; on an existing one, empty means "as it is".
FILLED_WHEN_NEW = ("lead_departments", "assigned_on")

SEPARATORS = re.compile(r"[、，,；;]")
JOIN = "、"
YES, NO = "是", "否"
SOURCE_LABELS_ZH = {}
for _label, _code in SOURCE_ALIASES.items():
    SOURCE_LABELS_ZH.setdefault(_code, _label)
TEXT_LIMITS = {"number": 32, "title": 300, "lead_deputy": 50, "supervising_leader": 50}
PREVIEW_LIMIT = 1000
BULK_ROWS = 500  # new rows written together
PROGRESS_EVERY = 50


def clean(text):
    """The text as a spreadsheet keeps it: no control characters, one kind of line break, no outer blanks."""
    if text is None:
        return ""
    text = ILLEGAL_CHARACTERS_RE.sub("", str(text)).replace("\r\n", "\n").replace("\r", "\n")
    return text.strip()


def split_names(text):
    """Names separated by 、 ， , ； or ;, blanks dropped, each once, in their order."""
    names = [clean(n) for n in SEPARATORS.split(text or "")]
    return tuple(dict.fromkeys(n for n in names if n))


@dataclass
class Record:
    """One row of the template as Python values: what a suggestion looks like in a spreadsheet."""

    year: int | None = None
    number: str = ""
    title: str = ""
    content: str = ""
    source: str | None = None
    lead_deputy: str = ""
    co_deputies: tuple = ()
    category: str | None = None
    street: str | None = None
    lead_departments: tuple = ()
    co_departments: tuple = ()
    assigned_on: dt.date | None = None
    due_date: dt.date | None = None
    is_key: bool | None = None
    supervising_leader: str = ""
    outcome: str | None = None
    reply_date: dt.date | None = None
    outcome_changed_on: dt.date | None = None
    result: str | None = None
    attitude: str | None = None
    is_public: bool | None = None


# --- messages ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class Issue:
    """One reason a file is refused, translated when shown (the browser's language, or English on
    the command line). `row` None: the file as a whole; `translated`: `message` is final text."""

    row: int | None
    column: str
    message: str
    params: dict = field(default_factory=dict)
    translated: bool = False

    def text(self):
        message = self.message if self.translated else _(self.message)
        if self.params:
            message = message % self.params
        if self.row is None:
            return message
        return _("row %(row)s, column %(column)s: %(message)s") % {
            "row": self.row, "column": self.column, "message": message}

    def as_json(self):
        return {"row": self.row, "column": self.column, "message": self.message, "params": self.params,
                "translated": self.translated}

    @classmethod
    def from_json(cls, data):
        return cls(data.get("row"), data.get("column", ""), data.get("message", ""), data.get("params") or {},
                   data.get("translated", False))

    def sort_key(self):
        order = HEADERS.index(self.column) if self.column in HEADERS else len(HEADERS)
        return (self.row or 0, order)


class CellError(Exception):
    def __init__(self, message, **params):
        super().__init__(message)
        self.message, self.params = message, params


def _closest(name, candidates):
    match = difflib.get_close_matches(name, list(candidates), n=1, cutoff=0.5)
    return match[0] if match else None


# --- reading cells ----------------------------------------------------------------------------

DATE_PATTERNS = [re.compile(p) for p in (r"^(\d{4})-(\d{1,2})-(\d{1,2})$", r"^(\d{4})/(\d{1,2})/(\d{1,2})$",
                                         r"^(\d{4})年(\d{1,2})月(\d{1,2})日$", r"^(\d{4})\.(\d{1,2})\.(\d{1,2})$")]
BAD_DATE = N_("“%(value)s” is not a date: write 2025-03-15, 2025/3/15 or 2025年3月15日.")


def parse_date(value):
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        # A date typed into a cell formatted as a number: Excel's serial day number.
        if 1 <= value < 2958466:
            day = from_excel(value)
            return day.date() if isinstance(day, dt.datetime) else day
        raise CellError(BAD_DATE, value=value)
    text = clean(value).split(" ")[0]
    for pattern in DATE_PATTERNS:
        m = pattern.match(text)
        if m:
            try:
                return dt.date(*(int(x) for x in m.groups()))
            except ValueError:
                raise CellError(N_("“%(value)s” is not a real date."), value=clean(value)) from None
    raise CellError(BAD_DATE, value=clean(value))


def parse_text(value, limit=None):
    if isinstance(value, bool):
        value = YES if value else NO
    elif isinstance(value, float) and value.is_integer():
        value = int(value)
    elif isinstance(value, (dt.datetime, dt.date)):
        value = value.date().isoformat() if isinstance(value, dt.datetime) else value.isoformat()
    text = clean(value)
    if limit and len(text) > limit:
        raise CellError(N_("Longer than %(limit)s characters."), limit=limit)
    return text


def parse_year(value):
    text = parse_text(value)
    if not re.fullmatch(r"\d{4}", text) or not 1980 <= int(text) <= timezone.localdate().year + 1:
        raise CellError(N_("“%(value)s” is not a year."), value=text)
    return int(text)


def parse_bool(value):
    if isinstance(value, bool):
        return value
    text = parse_text(value).upper()
    if text in (YES, "Y", "YES", "TRUE", "1"):
        return True
    if text in (NO, "N", "NO", "FALSE", "0"):
        return False
    raise CellError(N_("“%(value)s”: write 是 or 否."), value=parse_text(value))


def _choice(aliases, codes):
    def parse(value):
        text = parse_text(value)
        for candidate in (text, text.upper(), text.lower()):
            if candidate in aliases:
                return str(aliases[candidate])
            if candidate in codes:
                return candidate
        raise CellError(N_("Unknown value “%(value)s”; use one of: %(choices)s."), value=text,
                        choices=JOIN.join(dict.fromkeys(aliases)))
    return parse


PARSERS = {
    "year": parse_year,
    "number": lambda v: parse_text(v, TEXT_LIMITS["number"]),
    "title": lambda v: parse_text(v, TEXT_LIMITS["title"]),
    "content": parse_text,
    "source": _choice(SOURCE_ALIASES, set(Source.values)),
    "lead_deputy": lambda v: parse_text(v, TEXT_LIMITS["lead_deputy"]),
    "co_deputies": lambda v: split_names(parse_text(v)),
    "category": parse_text,
    "street": parse_text,
    "lead_departments": lambda v: split_names(parse_text(v)),
    "co_departments": lambda v: split_names(parse_text(v)),
    "assigned_on": parse_date,
    "due_date": parse_date,
    "is_key": parse_bool,
    "supervising_leader": lambda v: parse_text(v, TEXT_LIMITS["supervising_leader"]),
    "outcome": _choice(OUTCOME_ALIASES, set(OUTCOME_LABELS_ZH)),
    "reply_date": parse_date,
    "outcome_changed_on": parse_date,
    "result": _choice(RATING_ALIASES, set(RATING_LABELS_ZH)),
    "attitude": _choice(RATING_ALIASES, set(RATING_LABELS_ZH)),
    "is_public": parse_bool,
}
# Dates of things that happened; a deadline (办复期限) may of course lie ahead.
PAST_DATES = ("assigned_on", "reply_date", "outcome_changed_on")


@dataclass
class Row:
    """A data row of the file: its number as the spreadsheet shows it, its values, its filled cells."""

    number: int
    record: Record
    filled: set

    @property
    def key(self):
        return (self.record.year, self.record.number)


# --- reading the file -------------------------------------------------------------------------

OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
ZIP_MAGIC = b"PK\x03\x04"
ENCRYPTION_STREAM = "EncryptionInfo".encode("utf-16-le")


class FileRefused(Exception):
    def __init__(self, *issues):
        super().__init__(issues[0].message)
        self.issues = list(issues)


def _file_issue(message, **params):
    return FileRefused(Issue(None, "", message, params))


def file_size(n):
    return f"{n / 2**20:.1f} MB" if n >= 2**20 else f"{max(1, round(n / 1024))} KB"


def sniff(path):
    """Refuse, by content and not by name, what is not a readable .xlsx of an acceptable size."""
    size = os.path.getsize(path)
    if size == 0:
        raise _file_issue(N_("The file is empty."))
    if size > settings.IMPORT_MAX_BYTES:
        raise _file_issue(N_("The file is %(size)s; the limit is %(limit)s."),
                          size=file_size(size), limit=file_size(settings.IMPORT_MAX_BYTES))
    with open(path, "rb") as f:
        head = f.read(8)
        if head == OLE_MAGIC:
            # An encrypted .xlsx is an OLE compound file holding an EncryptionInfo stream; any
            # other OLE file here is a workbook of Excel 97-2003.
            if ENCRYPTION_STREAM in f.read():
                raise _file_issue(N_("The file is protected by a password: save it without one and upload it "
                                     "again."))
            raise _file_issue(N_("This is an Excel 97-2003 (.xls) file: save it as an Excel workbook (.xlsx) "
                                 "and upload it again."))
    if not head.startswith(ZIP_MAGIC):
        raise _file_issue(N_("This is not an Excel workbook (.xlsx)."))
    try:
        with zipfile.ZipFile(path) as z:
            names = set(z.namelist())
            unpacked = sum(info.file_size for info in z.infolist())
    except (zipfile.BadZipFile, OSError):
        raise _file_issue(N_("The file is damaged: it cannot be read as an Excel workbook.")) from None
    if "[Content_Types].xml" not in names or "xl/workbook.xml" not in names:
        raise _file_issue(N_("This is not an Excel workbook (.xlsx)."))
    # A few MB of zip can unpack to gigabytes; refuse before the XML parser tries.
    limit = max(20 * settings.IMPORT_MAX_BYTES, 200 * 2**20)
    if unpacked > limit:
        raise _file_issue(N_("The file unpacks to more than %(limit)s MB."), limit=limit // 2**20)


@contextlib.contextmanager
def _workbook(path):
    try:
        wb = load_workbook(path, read_only=True, data_only=False)
    except Exception:  # openpyxl raises anything from KeyError to XML errors on a broken file
        raise _file_issue(N_("The file is damaged: it cannot be read as an Excel workbook.")) from None
    try:
        yield wb
    finally:
        wb.close()


def count_rows(path):
    """Data rows of the first sheet (blank rows not counted), to decide whether to run in the background."""
    sniff(path)
    with _workbook(path) as wb:
        try:
            rows = wb.worksheets[0].iter_rows(min_row=2, values_only=True)
            return sum(1 for values in rows if any(v not in (None, "") for v in values))
        except Exception:
            raise _file_issue(N_("The file is damaged: it cannot be read as an Excel workbook.")) from None


def read(path):
    """(rows, issues) of the file's first sheet; FileRefused when it cannot be read at all."""
    sniff(path)
    with _workbook(path) as wb:
        if not wb.worksheets:
            raise _file_issue(N_("The workbook has no sheet."))
        try:
            return _read_sheet(wb.worksheets[0])
        except FileRefused:
            raise
        except Exception:
            log.exception("unreadable spreadsheet %s", path)
            raise _file_issue(N_("The file is damaged: it cannot be read as an Excel workbook.")) from None


def _read_sheet(ws):
    rows_iter = ws.iter_rows()
    header = next(rows_iter, None)
    if header is None:
        raise _file_issue(N_("The first sheet is empty: the first row must hold the column headers."))
    columns, issues = _read_header(header)
    if issues:
        return [], issues
    unheaded = {}
    rows = []
    for cells in rows_iter:
        filled = [c for c in cells if c.value is not None and (not isinstance(c.value, str) or c.value.strip())]
        if not filled:
            continue
        row_number = filled[0].row
        if len(rows) >= settings.IMPORT_MAX_ROWS:
            raise _file_issue(N_("The file has more than %(limit)s rows; split it into smaller files."),
                              limit=settings.IMPORT_MAX_ROWS)
        values, cell_issues = {}, []
        for index, cell in enumerate(cells):
            if cell.value is None or (isinstance(cell.value, str) and not cell.value.strip()):
                continue
            header_name = columns.get(index)
            if header_name is None:
                unheaded.setdefault(index, row_number)
                continue
            attr = ATTRS.get(header_name)
            if attr is None:  # a computed column of the export
                continue
            if cell.data_type == "f":
                cell_issues.append(Issue(row_number, header_name,
                                         N_("A formula where a value belongs: enter the value itself.")))
            elif cell.data_type == "e":
                cell_issues.append(Issue(row_number, header_name, N_("The cell holds an Excel error (%(value)s)."),
                                         {"value": str(cell.value)}))
            else:
                values[attr] = cell.value
        rows.append((row_number, values, cell_issues))
    for index, row_number in sorted(unheaded.items()):
        issues.append(Issue(1, get_column_letter(index + 1),
                            N_("This column has values (from row %(first)s) but no header."), {"first": row_number}))
    if not rows:
        issues.append(Issue(None, "", N_("The file has a header row but no rows to import.")))
        return [], issues
    return [_parse_row(n, values, cell_issues, issues) for n, values, cell_issues in rows], issues


def _read_header(cells):
    columns, issues, seen = {}, [], set()
    for index, cell in enumerate(cells):
        name = clean(cell.value) if cell.value is not None else ""
        if not name:
            continue
        if name in HEADERS or name in COMPUTED:
            if name in seen:
                issues.append(Issue(1, name, N_("This column appears twice.")))
            seen.add(name)
            columns[index] = name
            continue
        match = _closest(name, [h for h in HEADERS + COMPUTED if h not in seen])
        if match:
            issues.append(Issue(1, name, N_("Unknown column; did you mean “%(match)s”?"), {"match": match}))
        else:
            issues.append(Issue(1, name, N_("Unknown column.")))
    for name in REQUIRED_HEADERS:
        if name not in seen:
            issues.append(Issue(1, name, N_("This required column is missing.")))
    return columns, issues


def _parse_row(row_number, values, cell_issues, issues):
    issues.extend(cell_issues)
    record, filled = Record(), set()
    failed = {i.column for i in cell_issues}
    today = timezone.localdate()
    for attr, raw in values.items():
        header = HEADER_OF[attr]
        try:
            value = PARSERS[attr](raw)
        except CellError as e:
            issues.append(Issue(row_number, header, e.message, e.params))
            failed.add(header)
            continue
        if value in ("", ()):
            continue
        if attr in PAST_DATES and value > today:
            issues.append(Issue(row_number, header, N_("%(date)s lies in the future."), {"date": value.isoformat()}))
            failed.add(header)
            continue
        setattr(record, attr, value)
        filled.add(attr)
    for attr in ALWAYS_FILLED:
        if attr not in filled and HEADER_OF[attr] not in failed:
            issues.append(Issue(row_number, HEADER_OF[attr], N_("required")))
    row = Row(row_number, record, filled)
    row.failed = failed
    return row


# --- what is in the database, as records --------------------------------------------------------

def _latest(model, value, order, **match):
    return Subquery(model.objects.filter(**match).order_by(*order).values(value)[:1])


def _latest_values():
    """The annotations of a suggestion's latest rating, outcome change and progress note."""
    # The rating in force is the one recorded last, whatever date it carries.
    feedback = {"suggestion": OuterRef("pk")}
    return {"x_result": _latest(Feedback, "result", ["-pk"], **feedback),
            "x_attitude": _latest(Feedback, "attitude", ["-pk"], **feedback),
            "x_outcome_on": OutcomeRecord.in_force(value="effective_on"),
            "x_progress_on": _latest(ProgressNote, "noted_on", ["-noted_on", "-pk"],
                                     assignment__suggestion=OuterRef("pk")),
            "x_progress": _latest(ProgressNote, "text", ["-noted_on", "-pk"], assignment__suggestion=OuterRef("pk"))}


def with_records(queryset):
    """The queryset annotated and prefetched so that `record_of` runs no query per row.

    Use with `.iterator(chunk_size=…)`: the prefetches then run once per chunk.
    """
    return (queryset.select_related("lead_deputy", "category", "street")
            .annotate(**_latest_values())
            .prefetch_related(
                Prefetch("co_deputies", queryset=Deputy.objects.only("pk", "name").order_by("name", "pk")),
                Prefetch("assignments", to_attr="x_assignments",
                         queryset=Assignment.objects.exclude(state=AssignmentState.RETURNED)
                         .select_related("department").order_by("role", "pk")
                         .only("suggestion_id", "role", "state", "outcome", "due_date", "first_replied_on",
                               "department__name"))))


def record_of(s):
    """The `Record` a suggestion (loaded through `with_records`) exports as."""
    return make_record(
        year=s.year, number=s.number, title=s.title, content=s.content, source=s.source,
        lead_deputy=s.lead_deputy.name, co_deputies=[d.name for d in s.co_deputies.all()],
        category=s.category.name if s.category_id else None, street=s.street.name if s.street_id else None,
        leads=[(a.department.name, a.due_date, a.first_replied_on) for a in s.x_assignments
               if a.role == AssignmentRole.LEAD],
        co_departments=[a.department.name for a in s.x_assignments if a.role == AssignmentRole.CO],
        assigned_on=s.assigned_on, first_replied_on=s.first_replied_on, is_key=s.is_key,
        supervising_leader=s.supervising_leader, outcome=s.outcome, outcome_on=s.x_outcome_on, result=s.x_result,
        attitude=s.x_attitude, is_public=s.is_public)


def make_record(*, year, number, title, content, source, lead_deputy, co_deputies, category, street, leads,
                co_departments, assigned_on, first_replied_on, is_key, supervising_leader, outcome, outcome_on,
                result, attitude, is_public):
    """The `Record` of a suggestion's stored values, from a model instance (`record_of`) or from the
    export's value rows alike. `leads`: (department, due date, first replied on) of each lead
    assignment not returned, `co_departments` the co-handlers' names; `outcome_on` the date of the
    latest outcome record."""
    reply_date = None
    if outcome:
        reply_date = first_replied_on or min((replied for _, _, replied in leads if replied), default=None)
    changed_on = outcome_on if outcome and outcome_on and reply_date and outcome_on > reply_date else None
    return Record(
        year=year, number=clean(number), title=clean(title), content=clean(content), source=source,
        lead_deputy=clean(lead_deputy), co_deputies=tuple(clean(name) for name in co_deputies),
        category=category, street=street, lead_departments=tuple(name for name, _, _ in leads),
        co_departments=tuple(co_departments), assigned_on=assigned_on,
        due_date=max((due for _, due, _ in leads), default=None), is_key=is_key,
        supervising_leader=clean(supervising_leader), outcome=outcome or None, reply_date=reply_date,
        outcome_changed_on=changed_on, result=result, attitude=attitude, is_public=is_public)


# --- the import -------------------------------------------------------------------------------

@dataclass
class Result:
    """What an import did (or, in a dry run, would do)."""

    file_name: str
    dry_run: bool
    total_rows: int = 0
    issues: list = field(default_factory=list)
    created: list = field(default_factory=list)
    updated: list = field(default_factory=list)
    unchanged: int = 0

    @property
    def ok(self):
        return not self.issues

    def preview(self):
        """The JSON kept on an ImportJob (its issues go to `errors`): counts and the first rows."""
        return {"created": len(self.created), "updated": len(self.updated), "unchanged": self.unchanged,
                "rows": (self.created + self.updated)[:PREVIEW_LIMIT], "dry_run": self.dry_run}

    def summary_line(self):
        params = {"total": self.total_rows, "created": len(self.created), "updated": len(self.updated),
                  "unchanged": self.unchanged}
        if self.dry_run:
            return _("Checked %(total)s rows, nothing written: %(created)s would be created, %(updated)s updated, "
                     "%(unchanged)s unchanged.") % params
        return _("Imported %(total)s rows: %(created)s created, %(updated)s updated, %(unchanged)s unchanged.") % params


def _stored(message, **params):
    """Text written into the database, in the product's language whatever the caller's."""
    with translation.override(settings.LANGUAGE_CODE):
        text = _(message)
    return text % params if params else text


def _chunks(values, size=500):
    values = list(values)
    for i in range(0, len(values), size):
        yield values[i:i + size]


class Importer:
    """Reads, checks and applies one file. `progress(done, total)` is called now and then."""

    def __init__(self, path, *, file_name=None, dry_run=False, progress=None):
        self.path = path
        self.file_name = file_name or os.path.basename(path)
        self.dry_run = dry_run
        self.progress = progress or (lambda done, total: None)
        self.result = Result(self.file_name, dry_run)
        self._deputies = {}

    def run(self):
        try:
            rows, issues = read(self.path)
        except FileRefused as e:
            self.result.issues = e.issues
            return self.result
        self.result.total_rows = len(rows)
        self.progress(0, len(rows))
        self._load_references(rows)
        issues += self._check(rows)
        if issues:
            self.result.issues = sorted(issues, key=Issue.sort_key)
            return self.result
        self._load_deputies(rows)
        self._apply(rows)
        self.result.issues.sort(key=Issue.sort_key)
        return self.result

    # -- checks that need the database

    def _load_references(self, rows):
        self.departments = {d.name: d for d in Department.objects.all()}
        self.categories = {c.name: c for c in Category.objects.all()}
        self.streets = {s.name: s for s in Street.objects.all()}
        self.existing = {}
        by_year = {}
        for row in rows:
            if row.record.year and row.record.number:
                by_year.setdefault(row.record.year, set()).add(row.record.number)
        for year, numbers in by_year.items():
            for chunk in _chunks(numbers):
                qs = with_records(Suggestion.objects.filter(year=year, number__in=chunk))
                for s in qs:
                    s.record = record_of(s)
                    self.existing[(s.year, s.number)] = s

    def _check(self, rows):
        issues = []
        first_row = {}
        for row in rows:
            r = row.record
            if r.year and r.number:
                if row.key in first_row:
                    issues.append(Issue(row.number, "建议号", N_("Number %(number)s of %(year)s is already in row "
                                                                "%(row)s."),
                                        {"number": r.number, "year": r.year, "row": first_row[row.key]}))
                    continue
                first_row[row.key] = row.number
            issues += self._check_references(row)
            s = self.existing.get(row.key)
            issues += self._check_row(row, s.record if s else None, s)
        return issues

    def _check_references(self, row):
        issues = []
        for attr, known, found, guess in (
                ("lead_departments", self.departments, N_("Unknown department “%(name)s”."),
                 N_("Unknown department “%(name)s”; did you mean “%(match)s”?")),
                ("co_departments", self.departments, N_("Unknown department “%(name)s”."),
                 N_("Unknown department “%(name)s”; did you mean “%(match)s”?")),
                ("category", self.categories, N_("Unknown category “%(name)s”."),
                 N_("Unknown category “%(name)s”; did you mean “%(match)s”?")),
                ("street", self.streets, N_("Unknown street or town “%(name)s”."),
                 N_("Unknown street or town “%(name)s”; did you mean “%(match)s”?"))):
            value = getattr(row.record, attr)
            for name in (value if isinstance(value, tuple) else (value,) if value else ()):
                if name not in known:
                    match = _closest(name, known)
                    issues.append(Issue(row.number, HEADER_OF[attr], guess if match else found,
                                        {"name": name, "match": match} if match else {"name": name}))
        both = set(row.record.lead_departments) & set(row.record.co_departments)
        if both:
            issues.append(Issue(row.number, "会办单位", N_("%(names)s cannot be both lead and co-handling department."),
                                {"names": JOIN.join(sorted(both))}))
        return issues

    def _check_row(self, row, cur, s):
        """The rules between cells, and between the row and what is recorded (`cur`, None when new)."""
        r, filled, n = row.record, row.filled, row.number
        failed = row.failed
        issues = []

        def issue(attr, message, **params):
            if HEADER_OF[attr] not in failed:
                issues.append(Issue(n, HEADER_OF[attr], message, params))

        if cur is None:
            for attr in FILLED_WHEN_NEW:
                if attr not in filled:
                    issue(attr, N_("required"))
        assigned_on = r.assigned_on or (cur.assigned_on if cur else None)
        has_outcome = cur is not None and cur.outcome
        records_reply = "outcome" in filled and not has_outcome
        if records_reply and "reply_date" not in filled:
            issue("reply_date", N_("Required when %(other)s is given."), other="办理结果")
        if "reply_date" in filled and "outcome" not in filled and not has_outcome:
            issue("outcome", N_("Required when %(other)s is given."), other="答复日期")
        for attr in ("result", "attitude"):
            if attr in filled and "outcome" not in filled and not has_outcome:
                issue(attr, N_("A rating needs a reply: fill in 办理结果 and 答复日期."))
        if "reply_date" in filled and assigned_on and r.reply_date < assigned_on:
            issue("reply_date", N_("The reply (%(reply)s) cannot be dated before the assignment (%(assigned)s)."),
                  reply=r.reply_date.isoformat(), assigned=assigned_on.isoformat())
        if "due_date" in filled and assigned_on and r.due_date < assigned_on:
            issue("due_date", N_("The deadline (%(due)s) cannot be before the assignment (%(assigned)s)."),
                  due=r.due_date.isoformat(), assigned=assigned_on.isoformat())
        reply_date = r.reply_date or (cur.reply_date if cur else None)
        if "outcome_changed_on" in filled and reply_date and r.outcome_changed_on < reply_date:
            issue("outcome_changed_on", N_("The change of outcome (%(changed)s) cannot be dated before the reply "
                                           "(%(reply)s)."),
                  changed=r.outcome_changed_on.isoformat(), reply=reply_date.isoformat())
        if cur is None:
            return issues
        if s.state == "withdrawn":
            return issues  # any change is refused by the workflow, with its own message
        if "assigned_on" in filled and cur.assigned_on and r.assigned_on != cur.assigned_on:
            issue("assigned_on", N_("Differs from the recorded assignment date %(date)s; an import does not move an "
                                    "assignment."), date=cur.assigned_on.isoformat())
        if not cur.lead_departments and "lead_departments" not in filled and (
                "assigned_on" in filled or "due_date" in filled or records_reply):
            issue("lead_departments", N_("required"))
        if not cur.assigned_on and "lead_departments" in filled and "assigned_on" not in filled:
            issue("assigned_on", N_("required"))
        for attr, other, role in (("lead_departments", cur.co_departments, N_("co-handling departments")),
                                  ("co_departments", cur.lead_departments, N_("lead departments"))):
            clash = [d for d in getattr(r, attr) if d in other]
            if clash:
                issue(attr, N_("%(names)s already handle this suggestion among its %(role)s; an import does not "
                               "change a department's role."), names=JOIN.join(clash), role=_(role))
        if has_outcome and "reply_date" in filled and r.reply_date != cur.reply_date:
            issue("reply_date", N_("Differs from the recorded reply date %(date)s; an import does not move a sent "
                                   "reply."), date=cur.reply_date.isoformat() if cur.reply_date else "—")
        if has_outcome and "outcome" in filled and r.outcome != cur.outcome and "outcome_changed_on" not in filled:
            issue("outcome_changed_on", N_("Required because 办理结果 changes from “%(before)s” to “%(after)s”."),
                  before=OUTCOME_LABELS_ZH[cur.outcome], after=OUTCOME_LABELS_ZH[r.outcome])
        return issues

    # -- applying

    def _apply(self, rows):
        # New rows of an assignment list are written in bulk; earlier years' records (an outcome, a
        # rating) and changes of recorded suggestions go step by step through the workflow.
        fresh, rest = [], []
        for row in rows:
            (fresh if self._is_new_assignment(row) else rest).append(row)
        total, done = len(rows), 0
        last = time.monotonic()

        def advanced(n):
            nonlocal done, last
            done += n
            if done % PROGRESS_EVERY < n or done == total or time.monotonic() - last > 1:
                self.progress(done, total)
                last = time.monotonic()

        with transaction.atomic(), workflow.notifications_batched():
            for chunk in _chunks(fresh, BULK_ROWS):
                try:
                    self._create_many(chunk)
                except DatabaseError:
                    # Something the checks could not see, such as a number registered meanwhile: the
                    # chunk again row by row, so that each refusal names its row and says why.
                    log.warning("import: a bulk chunk from row %s was refused; retried row by row", chunk[0].number)
                    for row in chunk:
                        self._apply_one(row)
                advanced(len(chunk))
            for row in rest:
                self._apply_one(row)
                advanced(1)
            if self.dry_run or self.result.issues:
                transaction.set_rollback(True)
        if self.result.issues:
            self.result.created, self.result.updated, self.result.unchanged = [], [], 0
        self.result.created.sort(key=lambda c: c["row"])

    def _apply_one(self, row):
        try:
            self._apply_row(row)
        except workflow.WorkflowError as e:
            self.result.issues.append(Issue(row.number, getattr(e, "column", "") or "建议号", str(e), translated=True))
        except DatabaseError as e:
            self._refused(row, e)

    def _refused(self, row, error):
        log.warning("import row %s: %s", row.number, error)
        self.result.issues.append(Issue(row.number, "建议号", N_("The database refused this row (%(error)s)."),
                                        {"error": str(error)[:200]}))

    def _is_new_assignment(self, row):
        r = row.record
        return row.key not in self.existing and not (r.outcome or r.result or r.attitude)

    def _create_many(self, rows):
        items = []
        for row in rows:
            r = row.record
            items.append(workflow.NewItem(
                fields=self._new_fields(r), co_deputies=[self._deputy(n) for n in r.co_deputies],
                assigned_on=r.assigned_on, lead=[self.departments[d] for d in r.lead_departments],
                co=[self.departments[d] for d in r.co_departments], due_date=r.due_date, row=row.number))
        workflow.import_new(items, actor=None, file_name=self.file_name,
                            due_label=_stored(N_("deadline in the imported list")))
        self.result.created += [{"row": row.number, "year": row.record.year, "number": row.record.number,
                                 "title": row.record.title, "action": "create", "changes": []} for row in rows]

    def _new_fields(self, r):
        """The fields `workflow.register` is given for a new row."""
        return dict(year=r.year, number=r.number, title=r.title, lead_deputy=self._deputy(r.lead_deputy),
                    content=r.content, source=r.source or Source.SESSION, category=self.categories.get(r.category),
                    street=self.streets.get(r.street), is_key=bool(r.is_key), supervising_leader=r.supervising_leader,
                    is_public=True if r.is_public is None else r.is_public)

    def _apply_row(self, row):
        s = self.existing.get(row.key)
        if s is None:
            self._create(row)
            return
        changes = self._update(row, s)
        if changes:
            workflow.record_import(s, actor=None, file_name=self.file_name, row=row.number, created=False,
                                   changes=changes)
            self.result.updated.append({"row": row.number, "year": s.year, "number": s.number, "title": s.title,
                                        "action": "update", "changes": changes})
        else:
            self.result.unchanged += 1

    def _load_deputies(self, rows):
        """Deputies by name, loaded once; of namesakes, the first registered."""
        names = {n for row in rows for n in (row.record.lead_deputy, *row.record.co_deputies) if n}
        for chunk in _chunks(names):
            for deputy in Deputy.objects.filter(name__in=chunk).order_by("-pk"):
                self._deputies[deputy.name] = deputy

    def _deputy(self, name):
        if name not in self._deputies:
            with transaction.atomic():
                self._deputies[name] = Deputy.objects.create(name=name)
        return self._deputies[name]

    def _step(self, column, fn, *args, **kwargs):
        """Call a workflow verb; a refusal is reported against the column that asked for the step."""
        try:
            return fn(*args, **kwargs)
        except workflow.WorkflowError as e:
            e.column = column
            raise

    def _create(self, row):
        r = row.record
        # History (a row with its outcome) is news to nobody; a new assignment list is.
        quiet = workflow.quietly() if r.outcome else contextlib.nullcontext()
        with quiet:
            s = self._step("建议号", workflow.register, actor=None, registered_on=r.assigned_on,
                           co_deputies=[self._deputy(n) for n in r.co_deputies], **self._new_fields(r))
            created = self._step("主办单位", workflow.assign, s, actor=None, assigned_on=r.assigned_on,
                                 lead=[self.departments[d] for d in r.lead_departments],
                                 co=[self.departments[d] for d in r.co_departments])
            leads = [a for a in created if a.is_lead]
            if r.due_date:
                for a in leads:
                    self._step("办复期限", workflow.set_due_date, a, actor=None, due_date=r.due_date,
                               label=_stored(N_("deadline in the imported list")))
            if r.outcome:
                for a in created:
                    if not a.is_lead:
                        self._close_co_assignment(a, r)
                self._reply(leads, r, fresh=True)
            if r.result or r.attitude:
                self._feedback(s, r, None)
            workflow.record_import(s, actor=None, file_name=self.file_name, row=row.number, created=True)
        self.result.created.append({"row": row.number, "year": r.year, "number": r.number, "title": r.title,
                                    "action": "create", "changes": []})

    def _close_co_assignment(self, a, r):
        """A co-handler of a replied item of earlier years gave its opinion long ago: record that it did,
        so that the item does not sit in anyone's overdue list."""
        self._step("会办单位", workflow.accept, a, actor=None, accepted_on=r.assigned_on)
        self._step("会办单位", workflow.send_opinion, a, actor=None, sent_on=r.reply_date,
                   text=_stored(N_("Opinion given before the records were imported; its text is not in the "
                                   "spreadsheet.")))

    def _reply(self, leads, r, fresh=False):
        """Record the row's reply for each lead department that has not replied. `fresh`: the
        assignments were just created, pending, and need no reloading."""
        with workflow.quietly():
            for a in leads:
                if not fresh:
                    a.refresh_from_db(fields=["state", "outcome"])
                if a.outcome:
                    continue
                if a.state == AssignmentState.PENDING:
                    self._step("办理结果", workflow.accept, a, actor=None, accepted_on=r.assigned_on or a.assigned_on)
                reply = self._step("办理结果", workflow.draft_reply, a, actor=None, outcome=r.outcome, body="",
                                   strict=False, drafted_on=r.reply_date)
                self._step("答复日期", workflow.sign_reply, reply, actor=None, reply_date=r.reply_date, strict=False)

    def _feedback(self, s, r, cur):
        before = (cur.result, cur.attitude) if cur else (None, None)
        result = r.result or before[0] or Rating.NO_OPINION
        attitude = r.attitude or before[1] or Rating.NO_OPINION
        if (result, attitude) == before:
            return False
        comments = ""
        if Rating.DISSATISFIED in (result, attitude):
            comments = _stored(N_("Imported; the deputy's comments are not in the spreadsheet."))
        on = r.outcome_changed_on or r.reply_date or (cur.reply_date if cur else None)
        with workflow.quietly():
            self._step("结果满意度", workflow.record_feedback, s, actor=None, result=result, attitude=attitude,
                       comments=comments, recorded_on=on)
        return True

    def _update(self, row, s):
        """Bring an existing suggestion to the row; the headers of what changed."""
        r, cur, filled = row.record, s.record, row.filled
        changes, details = [], {}
        for attr in ("title", "content", "supervising_leader", "source", "is_key", "is_public"):
            if attr in filled and getattr(r, attr) != getattr(cur, attr):
                details[attr] = getattr(r, attr)
        for attr, known in (("category", self.categories), ("street", self.streets)):
            if attr in filled and getattr(r, attr) != getattr(cur, attr):
                details[attr] = known[getattr(r, attr)]
        if "lead_deputy" in filled and r.lead_deputy != cur.lead_deputy:
            details["lead_deputy"] = self._deputy(r.lead_deputy)
        co_deputies = None
        if "co_deputies" in filled and sorted(r.co_deputies) != sorted(cur.co_deputies):
            co_deputies = [self._deputy(n) for n in r.co_deputies]
            changes.append("附议代表")
        if details or co_deputies is not None:
            self._step("标题", workflow.update, s, actor=None, co_deputies=co_deputies, **details)
            changes += [HEADER_OF[attr] for attr in details]
        new_leads = [self.departments[d] for d in r.lead_departments if d not in cur.lead_departments]
        new_cos = [self.departments[d] for d in r.co_departments if d not in cur.co_departments]
        if new_leads or new_cos:
            self._step("主办单位" if new_leads else "会办单位", workflow.assign, s, actor=None, lead=new_leads,
                       co=new_cos, assigned_on=r.assigned_on or cur.assigned_on)
            changes += ["主办单位"] * bool(new_leads) + ["会办单位"] * bool(new_cos)
        if "due_date" in filled and self._move_deadline(s, r, cur, reload=bool(new_leads)):
            changes.append("办复期限")
        if "outcome" in filled:
            if not cur.outcome:
                leads = list(Assignment.objects.filter(suggestion=s, role=AssignmentRole.LEAD)
                             .exclude(state=AssignmentState.RETURNED))
                self._reply(leads, r)
                changes += ["办理结果", "答复日期"]
            elif r.outcome != cur.outcome:
                self._change_outcome(s, r)
                changes += ["办理结果", "结果更新日期"]
        if ("result" in filled or "attitude" in filled) and self._feedback(s, r, cur):
            changes += [h for h, attr in (("结果满意度", "result"), ("态度满意度", "attitude")) if attr in filled]
        return list(dict.fromkeys(changes))

    def _move_deadline(self, s, r, cur, reload):
        """Put the row's 办复期限 in force on the open lead assignments; True when one moved.
        `reload`: this row assigned new lead departments, so the loaded assignments are not all."""
        target = deadlines.fixed_date(r.due_date, "").date
        if reload:
            open_leads = list(Assignment.objects.filter(suggestion=s, role=AssignmentRole.LEAD,
                                                        state__in=OPEN_ASSIGNMENT_STATES))
        else:
            open_leads = [a for a in s.x_assignments if a.role == AssignmentRole.LEAD
                          and a.state in OPEN_ASSIGNMENT_STATES]
        if not open_leads:
            if target != cur.due_date:
                e = workflow.WorkflowError(_("The deadline can no longer change: the lead departments have "
                                             "replied."))
                e.column = "办复期限"
                raise e
            return False
        moved = [a for a in open_leads if a.due_date != target]
        for a in moved:
            self._step("办复期限", workflow.set_due_date, a, actor=None, due_date=r.due_date,
                       label=_stored(N_("deadline in the imported list")))
        return bool(moved)

    def _change_outcome(self, s, r):
        with workflow.quietly():
            for a in Assignment.objects.filter(suggestion=s, role=AssignmentRole.LEAD).exclude(
                    state=AssignmentState.RETURNED):
                if a.outcome != r.outcome:
                    self._step("办理结果", workflow.change_outcome, a, actor=None, outcome=r.outcome,
                               effective_on=r.outcome_changed_on, strict=False,
                               note=_stored(N_("Changed by the import of %(file)s."), file=self.file_name))


def import_file(path, *, file_name=None, dry_run=False, progress=None):
    """Check and import one file; see `Result`. Nothing is written unless every row is accepted."""
    return Importer(path, file_name=file_name, dry_run=dry_run, progress=progress).run()


# --- the export -------------------------------------------------------------------------------

EXPORT_CHUNK = 2000
COLUMN_WIDTHS = {"标题": 40, "内容": 40, "主办单位": 24, "会办单位": 24, "附议代表": 20, "最新进展": 40}


def cells_of(record):
    """The template's cells of a record, in HEADERS order."""
    def names(values):
        return JOIN.join(values) or None

    def yes_no(value):
        return None if value is None else YES if value else NO

    r = record
    return [r.year, r.number, r.title, r.content or None, SOURCE_LABELS_ZH.get(r.source), r.lead_deputy,
            names(r.co_deputies), r.category, r.street, names(r.lead_departments), names(r.co_departments),
            r.assigned_on, r.due_date, yes_no(r.is_key), r.supervising_leader or None,
            OUTCOME_LABELS_ZH.get(r.outcome), r.reply_date, r.outcome_changed_on, RATING_LABELS_ZH.get(r.result),
            RATING_LABELS_ZH.get(r.attitude), yes_no(r.is_public)]


# What the export reads of each suggestion: values, not model instances (ten of them per row were
# most of its time), with the latest rating, outcome change and progress note annotated.
EXPORT_VALUES = ("pk", "year", "number", "title", "content", "source", "lead_deputy__name", "category_id",
                 "street_id", "assigned_on", "first_replied_on", "is_key", "supervising_leader", "outcome",
                 "is_public", "state", "replied_on_time", "x_result", "x_attitude", "x_outcome_on", "x_progress_on",
                 "x_progress")
ON_TIME = {True: YES, False: NO}


def write_export(queryset, target, progress=None):
    """Write the suggestions of `queryset` (already scoped and filtered) to `target`, a path or a file.

    openpyxl's write-only mode keeps rows on disk as they are appended, and the queryset is read as
    value rows through a cursor, a chunk at a time, with each chunk's assignments and co-signing
    deputies read in one query each, so memory does not grow with the row count and the number of
    queries does not grow with the rows of a chunk. Reference names are read (and cleaned) once.
    `progress(done)` is called after each chunk. Returns the number of rows written.
    """
    wb = Workbook(write_only=True)
    ws = wb.create_sheet(_stored(N_("Suggestions")))
    for index, header in enumerate(HEADERS + COMPUTED, 1):
        ws.column_dimensions[get_column_letter(index)].width = COLUMN_WIDTHS.get(header, 12)
    bold = Font(bold=True)
    ws.append([_header_cell(ws, h, bold) for h in HEADERS + COMPUTED])
    with translation.override(settings.LANGUAGE_CODE):
        state_labels = {code: str(label) for code, label in SuggestionState.choices}
    departments, categories, streets = CleanNames(Department), CleanNames(Category), CleanNames(Street)
    rows = (queryset.order_by("-year", "number", "pk").annotate(**_latest_values()).values_list(*EXPORT_VALUES)
            .iterator(chunk_size=EXPORT_CHUNK))
    count = 0
    while chunk := list(itertools.islice(rows, EXPORT_CHUNK)):
        leads, cos, co_deputies = _related_values([row[0] for row in chunk], departments)
        for (pk, year, number, title, content, source, lead_deputy, category_id, street_id, assigned_on,
             first_replied_on, is_key, supervising_leader, outcome, is_public, state, on_time, result, attitude,
             outcome_on, progress_on, progress_text) in chunk:
            record = make_record(
                year=year, number=number, title=title, content=content, source=source, lead_deputy=lead_deputy,
                co_deputies=co_deputies.get(pk, ()), category=categories[category_id] if category_id else None,
                street=streets[street_id] if street_id else None, leads=leads.get(pk, ()),
                co_departments=cos.get(pk, ()),
                assigned_on=assigned_on, first_replied_on=first_replied_on, is_key=is_key,
                supervising_leader=supervising_leader, outcome=outcome, outcome_on=outcome_on, result=result,
                attitude=attitude, is_public=is_public)
            cells = cells_of(record)
            cells += (state_labels.get(state, state), ON_TIME.get(on_time),
                      clean(f"{progress_on.isoformat()} {clean(progress_text)}") if progress_text else None)
            # Every text is clean by now (`make_record`, the name maps, fixed labels); one that
            # merely starts with "=" must stay text, not become a formula.
            ws.append([_text_cell(ws, v) if v.__class__ is str and v[:1] == "=" else v for v in cells])
        count += len(chunk)
        if progress:
            progress(count)
    wb.save(target)
    return count


class CleanNames(dict):
    """pk → the cleaned name of every row of a reference table, read once; a row added since is
    read when it is first asked for."""

    def __init__(self, model):
        super().__init__((pk, clean(name)) for pk, name in model.objects.values_list("pk", "name"))
        self.model = model

    def __missing__(self, pk):
        self[pk] = name = clean(self.model.objects.values_list("name", flat=True).get(pk=pk))
        return name


def _related_values(pks, departments):
    """For the suggestions `pks`: the lead assignments (department, due date, first replied on) and
    the co-handling departments of each, not returned, in the order they were made; and the
    co-signing deputies' names, in name order."""
    leads, cos, co_deputies = {}, {}, {}
    assignments = (Assignment.objects.filter(suggestion_id__in=pks).exclude(state=AssignmentState.RETURNED)
                   .order_by("role", "pk").values_list("suggestion_id", "role", "department_id", "due_date",
                                                       "first_replied_on"))
    for suggestion_id, role, department_id, due_date, replied_on in assignments:
        if role == AssignmentRole.LEAD:
            leads.setdefault(suggestion_id, []).append((departments[department_id], due_date, replied_on))
        elif role == AssignmentRole.CO:
            cos.setdefault(suggestion_id, []).append(departments[department_id])
    signers = (Suggestion.co_deputies.through.objects.filter(suggestion_id__in=pks)
               .order_by("deputy__name", "deputy_id").values_list("suggestion_id", "deputy__name"))
    for suggestion_id, name in signers:
        co_deputies.setdefault(suggestion_id, []).append(name)
    return leads, cos, co_deputies


def _header_cell(ws, text, font):
    cell = WriteOnlyCell(ws, value=text)
    cell.font = font
    return cell


def _text_cell(ws, text):
    cell = WriteOnlyCell(ws, value=text)
    cell.data_type = "s"
    return cell


def export_to_tempfile(queryset):
    """(path, count): the export written to a temporary file, which the caller deletes."""
    handle, path = tempfile.mkstemp(suffix=".xlsx", prefix="export-")
    os.close(handle)
    try:
        count = write_export(queryset, path)
    except BaseException:
        os.unlink(path)
        raise
    return path, count


def export_file_name(year=None):
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    return f"建议-{year}-{stamp}.xlsx" if year else f"建议-{stamp}.xlsx"


# --- export jobs (the browser, above EXPORT_BACKGROUND_ROWS) -------------------------------------

def run_export(job_id):
    """Write a background export's file and record it on the job.

    The owner's scope and the list's filters are applied here, from the job's query string, exactly
    as the list applies them (`filters.for_user`). The file is written beside its final name and
    moved there when complete, so a download never finds half a file.
    """
    S = ExportJob.State
    if not ExportJob.objects.filter(pk=job_id, state=S.QUEUED).update(state=S.RUNNING, updated_at=timezone.now()):
        return None  # already taken: a redelivered task
    purge_exports()
    job = ExportJob.objects.select_related("created_by").get(pk=job_id)
    if not job.created_by.is_active:  # deactivated since asking: their scope is no longer theirs to use
        job.state, job.finished_at = S.FAILED, timezone.now()
        job.save(update_fields=["state", "finished_at"])
        return job
    f = for_user(job.created_by, QueryDict(job.query))
    name = job.file.field.generate_filename(job, f"export-{job.pk}-{uuid.uuid4().hex[:12]}.xlsx")
    path = job.file.storage.path(name)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    partial = f"{path}.part"

    def progress(done):
        ExportJob.objects.filter(pk=job.pk).update(processed_rows=done, updated_at=timezone.now())

    try:
        count = write_export(f.qs if f.is_bound else f.queryset, partial, progress=progress)
        os.replace(partial, path)
    except Exception:
        log.exception("export job %s failed", job_id)
        with contextlib.suppress(OSError):
            os.unlink(partial)
        job.state, job.finished_at = S.FAILED, timezone.now()
        job.save(update_fields=["state", "finished_at"])  # the progress it made stays on the row
        notifications.export_finished(job)
        return job
    job.state, job.file.name, job.total_rows, job.processed_rows = S.DONE, name, count, count
    job.finished_at = timezone.now()
    job.save(update_fields=["state", "file", "total_rows", "processed_rows", "finished_at"])
    notifications.export_finished(job)
    return job


@shared_task(name="suggestions.run_export_job", ignore_result=True)
def run_export_job(job_id):
    run_export(job_id)


def start_export(job):
    """Have a worker write the job's file once the current transaction commits; when the broker
    cannot be reached, write it in this process rather than fail the request."""
    def enqueue():
        try:
            run_export_job.apply_async((job.pk,), retry=False)
        except Exception:
            log.warning("broker unreachable; running export job %s in-process", job.pk, exc_info=True)
            run_export(job.pk)

    transaction.on_commit(enqueue)


def purge_exports(now=None):
    """Delete the export jobs older than EXPORT_RETENTION_DAYS, and their files."""
    cutoff = (now or timezone.now()) - dt.timedelta(days=settings.EXPORT_RETENTION_DAYS)
    for job in ExportJob.objects.filter(created_at__lt=cutoff):
        if job.file:
            job.file.delete(save=False)
        job.delete()


# --- the template -----------------------------------------------------------------------------

TEMPLATE_NOTES = {
    "年度": N_("Required. The year, e.g. 2025."),
    "建议号": N_("Required. Unique within the year; a row whose year and number exist updates that suggestion."),
    "标题": N_("Required."),
    "来源": N_("大会期间 (default), 闭会期间 or 集中联系社区."),
    "领衔代表": N_("Required. A deputy's name; an unknown name adds the deputy."),
    "附议代表": N_("Names separated by 、 ， , ； or ;"),
    "类别": N_("One of the categories on the second sheet."),
    "街镇": N_("One of the streets and towns on the second sheet."),
    "主办单位": N_("Required. One or more departments of the second sheet, separated by 、"),
    "会办单位": N_("Departments of the second sheet, separated by 、"),
    "交办日期": N_("Required. A date: 2025-03-15, 2025/3/15 or 2025年3月15日."),
    "办复期限": N_("Computed by the rules when empty."),
    "重点建议": N_("是 or 否."),
    "办理结果": N_("已经解决, 正在解决, 计划解决 or 留作参考 (or A, B, C, D)."),
    "答复日期": N_("Required with 办理结果."),
    "结果更新日期": N_("Required when a re-import changes 办理结果: the date it changed."),
    "结果满意度": N_("满意, 基本满意, 不满意 or 未表态."),
    "态度满意度": N_("满意, 基本满意, 不满意 or 未表态."),
    "是否公开": N_("是 (default) or 否."),
}


def write_template(target):
    """The empty template: headers with notes on the first sheet, the valid values on the second."""
    from openpyxl.comments import Comment

    wb = Workbook()
    ws = wb.active
    ws.title = _stored(N_("Suggestions"))
    bold = Font(bold=True)
    for index, header in enumerate(HEADERS, 1):
        cell = ws.cell(row=1, column=index, value=header)
        cell.font = bold
        if header in TEMPLATE_NOTES:
            cell.comment = Comment(_stored(TEMPLATE_NOTES[header]), "")
        ws.column_dimensions[get_column_letter(index)].width = COLUMN_WIDTHS.get(header, 12)
    ws.freeze_panes = "A2"
    ref = wb.create_sheet(_stored(N_("Valid values")))
    lists = [
        (_stored(N_("Departments")), list(Department.objects.filter(is_active=True).values_list("name", flat=True))),
        (_stored(N_("Categories")), list(Category.objects.values_list("name", flat=True))),
        (_stored(N_("Streets and towns")), list(Street.objects.values_list("name", flat=True))),
        ("来源", list(SOURCE_LABELS_ZH.values())),
        ("办理结果", list(OUTCOME_LABELS_ZH.values())),
        (_stored(N_("Ratings")), list(RATING_LABELS_ZH.values())),
        (_stored(N_("Yes / no")), [YES, NO]),
    ]
    for col, (title, values) in enumerate(lists, 1):
        ref.cell(row=1, column=col, value=title).font = bold
        ref.column_dimensions[get_column_letter(col)].width = 20
        for i, value in enumerate(values, 2):
            ref.cell(row=i, column=col, value=value)
    # Drop-down lists where a cell takes one value of a list.
    sheet = ref.title
    for header, col in (("类别", 2), ("街镇", 3), ("来源", 4), ("办理结果", 5), ("结果满意度", 6), ("态度满意度", 6),
                        ("重点建议", 7), ("是否公开", 7)):
        length = max(len(lists[col - 1][1]), 1) + 1
        letter = get_column_letter(col)
        dv = DataValidation(type="list", formula1=f"'{sheet}'!${letter}$2:${letter}${length}", allow_blank=True)
        target_letter = get_column_letter(HEADERS.index(header) + 1)
        dv.add(f"{target_letter}2:{target_letter}{settings.IMPORT_MAX_ROWS + 1}")
        ws.add_data_validation(dv)
    wb.save(target)


# --- import jobs (the browser) ----------------------------------------------------------------

def progress_path(job):
    return f"{job.file.path}.progress"


def stalled(job):
    """A job being checked or imported whose worker wrote progress once and then nothing for
    ImportJob.STALLED_AFTER: the worker was stopped (a restart, a crash). Its transaction went with
    it, so nothing was written. A job whose worker has not started yet has no progress file: waiting."""
    if job.state not in (ImportJob.State.CHECKING, ImportJob.State.IMPORTING):
        return False
    try:
        last = os.path.getmtime(progress_path(job))
    except OSError:
        return False
    return time.time() - last > ImportJob.STALLED_AFTER.total_seconds()


def read_progress(job):
    """(done, total) of a running job, from the file its worker writes (the database row is only
    written outside the import's transaction)."""
    try:
        with open(progress_path(job)) as f:
            done, total = (int(x) for x in f.read().split())
            return done, total
    except (OSError, ValueError):
        return job.processed_rows, job.total_rows


def _write_progress(job, done, total):
    path = progress_path(job)
    tmp = f"{path}.tmp"
    with open(tmp, "w") as f:
        f.write(f"{done} {total}")
    os.replace(tmp, path)


CHECK, IMPORT = "check", "import"
STARTS = {CHECK: ImportJob.State.QUEUED, IMPORT: ImportJob.State.IMPORTING}


def run_job(job_id, mode, user_id=None, ip=None):
    """Check (a dry run) or import a job's file and record the outcome on the job. What it writes is
    on the audit trail as an import by the user who asked for this step (`user_id`, the job's owner
    when not given), from their address (`ip`)."""
    S = ImportJob.State
    start = STARTS[mode]
    if mode == CHECK:
        if not ImportJob.objects.filter(pk=job_id, state=start).update(state=S.CHECKING):
            return None  # already checked: a redelivered task
    elif not ImportJob.objects.filter(pk=job_id, state=start).exists():
        return None
    job = ImportJob.objects.get(pk=job_id)
    try:
        user = get_user_model().objects.filter(pk=user_id).first() if user_id else job.created_by
        with audit_context.acting(channel=audit_context.IMPORT, user=user, ip=ip,
                                  path=f"import {job.pk}: {job.original_name}"):
            result = import_file(job.file.path, file_name=job.original_name, dry_run=mode == CHECK,
                                 progress=lambda done, total: _write_progress(job, done, total))
    except Exception:
        log.exception("import job %s failed", job_id)
        job.state, job.errors = S.FAILED, [Issue(None, "", N_("The import stopped on an unexpected error; nothing "
                                                             "was written.")).as_json()]
    else:
        job.errors = [i.as_json() for i in result.issues]
        job.summary = result.preview()
        job.total_rows = job.processed_rows = result.total_rows
        if result.issues:
            job.state = S.REJECTED if mode == CHECK else S.FAILED
        else:
            job.state = S.CHECKED if mode == CHECK else S.DONE
    job.finished_at = timezone.now()
    job.save(update_fields=["state", "errors", "summary", "total_rows", "processed_rows", "finished_at"])
    with contextlib.suppress(OSError):
        os.unlink(progress_path(job))
    return job


@shared_task(name="suggestions.run_import_job", ignore_result=True)
def run_import_job(job_id, mode, user_id=None, ip=None):
    run_job(job_id, mode, user_id, ip)


def start_job(job, mode, background, request=None):
    """Run a job now, or after the current transaction commits in a Celery worker; when the broker
    cannot be reached, run it in this process rather than fail the request. Its writes are
    attributed to the `request`'s user and address."""
    by = (request.user.pk, audit_context.client_ip(request)) if request else (None, None)
    if not background:
        return run_job(job.pk, mode, *by)

    def enqueue():
        try:
            run_import_job.apply_async((job.pk, mode, *by), retry=False)
        except Exception:
            log.warning("broker unreachable; running import job %s in-process", job.pk, exc_info=True)
            run_job(job.pk, mode, *by)

    transaction.on_commit(enqueue)
    return job


def issues_of(job):
    return [Issue.from_json(e) for e in job.errors or []]

