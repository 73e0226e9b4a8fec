"""The annual report page and its downloads. Every figure is computed through the user's scope:
the office and the liaison office see the district, a handler or leader their departments' items."""
import io
from urllib.parse import urlencode

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import FileResponse
from django.shortcuts import render

from departments import scoping
from suggestions.choices import Outcome, Rating, Source
from supervision.models import RecheckMethod

from . import charts, exports, queries
from .forms import ReportForm

CONTENT_TYPES = {
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
}


def _check_access(user):
    """Reports are for the office, the liaison office and the departments; a deputy has no report."""
    a = scoping.access(user)
    if not (a.sees_everything or a.is_department_user):
        raise PermissionDenied


def _query(params):
    """The query string that asks for exactly these parameters (for the download links)."""
    values = {"year": params.year, "as_of": params.as_of.isoformat()}
    if params.source:
        values["source"] = params.source
    if params.lookback:
        values["lookback"] = "{}-{}".format(*params.lookback)
    return urlencode(values)


def _outcome_rows(report):
    previous = report["previous_year"]["outcomes"]
    return [{"code": code, "label": Outcome(code).label, **report["outcomes"][code],
             "previous": previous[code]} for code in queries.OUTCOMES]


def _rating_rows(report):
    sat = report["satisfaction"]
    return [{"label": Rating(code).label, "result": sat["result"][code], "attitude": sat["attitude"][code]}
            for code in queries.RATINGS]


def _invalid(request, form):
    """The form again with what is wrong (escaped, as everything the template shows); no figures."""
    return render(request, "reports/annual.html", {"form": form}, status=400)


@login_required
def annual(request):
    _check_access(request.user)
    form = ReportForm(request.GET)
    if form.is_bound and not form.is_valid():
        return _invalid(request, form)
    params = form.params()
    report = queries.annual(request.user, params)
    access = scoping.access(request.user)
    context = {
        "form": form,
        "params": params,
        "report": report,
        "previous": report["previous_year"],
        "query": _query(params),
        "paragraph": exports.statistics_paragraph(report),
        "title": exports.title(report),
        "outcome_rows": _outcome_rows(report),
        "rating_rows": _rating_rows(report),
        "recheck_methods": [(RecheckMethod(code).label, n)
                            for code, n in report["supervision"]["rechecks"]["by_method"].items()],
        "source_labels": dict(Source.choices),
        "charts": {"outcomes": charts.outcome_mix(report), "departments": charts.departments(report),
                   "months": charts.replies_by_month(report)},
        "scope_departments": None if access.sees_everything else list(
            scoping.departments(request.user).values_list("name", flat=True)),
    }
    return render(request, "reports/annual.html", context)


def _download(request, extension):
    _check_access(request.user)
    form = ReportForm(request.GET)
    if form.is_bound and not form.is_valid():
        return _invalid(request, form)
    report = queries.annual(request.user, form.params())
    data = exports.workbook(report) if extension == "xlsx" else exports.document(report)
    return FileResponse(io.BytesIO(data), as_attachment=True, filename=exports.file_name(report, extension),
                        content_type=CONTENT_TYPES[extension])


@login_required
def annual_xlsx(request):
    return _download(request, "xlsx")


@login_required
def annual_docx(request):
    return _download(request, "docx")
