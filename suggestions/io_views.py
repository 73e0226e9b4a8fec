"""The browser's Excel in and out: upload, check, preview and confirm an import; download the
template; export the filtered list (a large one in the background, with a progress page). The work
itself is `suggestions.spreadsheets`."""
import datetime as dt
import io
import os
from functools import wraps

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import Model
from django.http import FileResponse, Http404, QueryDict
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods, require_safe

from departments import scoping

from . import filters, spreadsheets
from .models import ExportJob, ImportJob
from .views import filtered_suggestions

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
RUNNING = (ImportJob.State.QUEUED, ImportJob.State.CHECKING, ImportJob.State.IMPORTING)


def coordinator_required(view):
    """Imports are the district office's: anyone else is refused (403)."""
    @wraps(view)
    @login_required
    def wrapper(request, *args, **kwargs):
        if not scoping.is_coordinator(request.user):
            raise PermissionDenied
        return view(request, *args, **kwargs)
    return wrapper


class UploadForm(forms.Form):
    file = forms.FileField(label=gettext_lazy("Spreadsheet (.xlsx)"),
                           widget=forms.ClearableFileInput(attrs={"accept": ".xlsx," + XLSX}))

    def clean_file(self):
        f = self.cleaned_data["file"]
        if f.size > settings.IMPORT_MAX_BYTES:
            raise forms.ValidationError(_("The file is %(size)s; the limit is %(limit)s.") % {
                "size": spreadsheets.file_size(f.size), "limit": spreadsheets.file_size(settings.IMPORT_MAX_BYTES)})
        return f


@coordinator_required
def import_upload(request):
    """Upload a file: it is kept as an ImportJob and checked (a dry run), here or in a worker."""
    form = UploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        job = ImportJob(original_name=os.path.basename(upload.name)[:255], created_by=request.user)
        # The stored name is ours: the uploaded one only ever appears as text.
        job.file.save(f"import-{timezone.localtime():%Y%m%d-%H%M%S}.xlsx", upload, save=True)
        try:
            rows = spreadsheets.count_rows(job.file.path)
        except spreadsheets.FileRefused as e:
            job.file.delete(save=False)
            job.delete()
            for issue in e.issues:
                form.add_error("file", issue.text())
        else:
            job.total_rows = rows
            job.save(update_fields=["total_rows"])
            spreadsheets.start_job(job, spreadsheets.CHECK, background=rows > settings.IMPORT_BACKGROUND_ROWS,
                                   request=request)
            return redirect("suggestions:import_job", job.pk)
    jobs = ImportJob.objects.select_related("created_by")[:10]
    return render(request, "suggestions/import.html", {
        "form": form, "jobs": jobs, "max_mb": round(settings.IMPORT_MAX_BYTES / 2**20),
        "max_rows": settings.IMPORT_MAX_ROWS, "headers": spreadsheets.HEADERS,
        "required": spreadsheets.REQUIRED_HEADERS, "computed": spreadsheets.COMPUTED},
        status=400 if form.errors else 200)


@coordinator_required
def import_job(request, pk):
    """One import: its progress, its preview (created, updated, refused) and the confirmation.
    Everything shown comes from the ImportJob row, so a reload finds the page as it was."""
    job = get_object_or_404(ImportJob.objects.select_related("created_by"), pk=pk)
    if request.method == "POST":
        confirmed = ImportJob.objects.filter(pk=job.pk, state=ImportJob.State.CHECKED).update(
            state=ImportJob.State.IMPORTING, processed_rows=0)
        if not confirmed:
            messages.error(request, _("This import can no longer be confirmed."))
            return redirect("suggestions:import_job", job.pk)
        job.refresh_from_db()
        spreadsheets.start_job(job, spreadsheets.IMPORT,
                               background=job.total_rows > settings.IMPORT_BACKGROUND_ROWS, request=request)
        return redirect("suggestions:import_job", job.pk)
    interrupted = spreadsheets.stalled(job)
    running = job.state in RUNNING and not interrupted
    done, total = spreadsheets.read_progress(job) if running else (job.processed_rows, job.total_rows)
    summary = job.summary or {}
    return render(request, "suggestions/import_job.html", {
        "job": job, "running": running, "interrupted": interrupted, "done": done, "total": total,
        "percent": round(100 * done / total) if total else 0,
        "issues": [i.text() for i in spreadsheets.issues_of(job)],
        "summary": summary, "rows": summary.get("rows", []),
        "more_rows": summary.get("created", 0) + summary.get("updated", 0) > len(summary.get("rows", [])),
    })


@coordinator_required
def import_template(request):
    buffer = io.BytesIO()
    spreadsheets.write_template(buffer)
    buffer.seek(0)
    return FileResponse(buffer, as_attachment=True, filename=_("suggestions-import-template.xlsx"),
                        content_type=XLSX)


@login_required
@require_http_methods(["GET", "POST"])  # not HEAD: it would write the whole file to send none of it
def export(request):
    """The list page's rows as .xlsx: the same scope and the same filters (`filtered_suggestions`).
    Up to EXPORT_BACKGROUND_ROWS rows the file is the answer. Above, a GET asks to confirm (a GET
    changes nothing) and the confirming POST has a worker write the file: the answer is the job's
    page, which offers the file when it is ready."""
    f = filtered_suggestions(request)
    qs = f.qs if f.is_bound else f.queryset
    year = f.form.cleaned_data.get("year") if f.is_bound and f.form.is_valid() else None
    file_name = spreadsheets.export_file_name(int(year) if year else None)
    total = qs.count()
    if total > settings.EXPORT_BACKGROUND_ROWS:
        query = request.GET.urlencode()
        if request.method != "POST":
            return render(request, "suggestions/export_confirm.html", {
                "total": total, "threshold": settings.EXPORT_BACKGROUND_ROWS, "query": query,
                "filters_shown": _filters_shown(f),
                "list_url": f"{reverse('suggestions:list')}?{query}" if query else reverse("suggestions:list")})
        job = ExportJob.objects.create(query=query, file_name=file_name, total_rows=total, created_by=request.user)
        spreadsheets.start_export(job)
        return redirect("suggestions:export_job", job.pk)
    path, _count = spreadsheets.export_to_tempfile(qs)
    handle = open(path, "rb")  # noqa: SIM115  (FileResponse closes it)
    os.unlink(path)  # the open handle keeps the data until the response is sent
    return FileResponse(handle, as_attachment=True, content_type=XLSX, filename=file_name)


def _own_export(request, pk, **match):
    """A background export is its owner's alone: anyone else, a coordinator included, gets 404."""
    return get_object_or_404(ExportJob, pk=pk, created_by=request.user, **match)


def _filters_shown(f):
    """(label, value) of each filter the job's query string sets, as the list's form names them."""
    if not f.is_bound or not f.form.is_valid():
        return []
    shown = []
    for name, field in f.form.fields.items():
        value = f.form.cleaned_data.get(name)
        if value in (None, ""):
            continue
        if not isinstance(value, Model) and getattr(field, "choices", None):
            value = dict(field.choices).get(value, value)
        shown.append((field.label, value))
    return shown


@login_required
@require_safe
def export_job(request, pk):
    """One background export: its progress while a worker writes it, then the download link.
    Everything shown comes from the ExportJob row, so a reload finds the page as it was."""
    job = _own_export(request, pk)
    running = job.state in (ExportJob.State.QUEUED, ExportJob.State.RUNNING) and not job.stalled
    f = filters.for_user(request.user, QueryDict(job.query))
    return render(request, "suggestions/export_job.html", {
        "job": job, "running": running, "filters_shown": _filters_shown(f),
        "percent": round(100 * job.processed_rows / job.total_rows) if job.total_rows else 0,
        "kept_until": job.created_at + dt.timedelta(days=settings.EXPORT_RETENTION_DAYS),
        "list_url": f"{reverse('suggestions:list')}?{job.query}" if job.query else reverse("suggestions:list"),
    })


@login_required
@require_safe
def export_file(request, pk):
    """The file of a finished background export, for its owner only."""
    job = _own_export(request, pk, state=ExportJob.State.DONE)
    try:
        handle = job.file.open("rb")
    except (FileNotFoundError, ValueError):
        raise Http404 from None
    return FileResponse(handle, as_attachment=True, content_type=XLSX, filename=job.file_name)
