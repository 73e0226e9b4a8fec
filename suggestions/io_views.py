"""The browser's Excel in and out: upload, check, preview and confirm an import; download the
template; export the filtered list. The work itself is `suggestions.spreadsheets`."""
import io
import os
from functools import wraps

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import FileResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods

from departments import scoping

from . import spreadsheets
from .models import ImportJob
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
@require_http_methods(["GET", "POST"])
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
            spreadsheets.start_job(job, spreadsheets.CHECK, background=rows > settings.IMPORT_BACKGROUND_ROWS)
            return redirect("suggestions:import_job", job.pk)
    jobs = ImportJob.objects.select_related("created_by")[:10]
    return render(request, "suggestions/import.html", {
        "form": form, "jobs": jobs, "max_mb": round(settings.IMPORT_MAX_BYTES / 2**20),
        "max_rows": settings.IMPORT_MAX_ROWS, "headers": spreadsheets.HEADERS,
        "required": spreadsheets.REQUIRED_HEADERS, "computed": spreadsheets.COMPUTED},
        status=400 if form.errors else 200)


@coordinator_required
@require_http_methods(["GET", "POST"])
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
                               background=job.total_rows > settings.IMPORT_BACKGROUND_ROWS)
        return redirect("suggestions:import_job", job.pk)
    running = job.state in RUNNING
    done, total = spreadsheets.read_progress(job) if running else (job.processed_rows, job.total_rows)
    summary = job.summary or {}
    return render(request, "suggestions/import_job.html", {
        "job": job, "running": running, "done": done, "total": total,
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
def export(request):
    """The list page's rows as .xlsx: the same scope and the same filters (`filtered_suggestions`)."""
    f = filtered_suggestions(request)
    qs = f.qs if f.is_bound else f.queryset
    path, _count = spreadsheets.export_to_tempfile(qs)
    handle = open(path, "rb")  # noqa: SIM115  (FileResponse closes it)
    os.unlink(path)  # the open handle keeps the data until the response is sent
    year = f.form.cleaned_data.get("year") if f.is_bound and f.form.is_valid() else None
    return FileResponse(handle, as_attachment=True, content_type=XLSX,
                        filename=spreadsheets.export_file_name(int(year) if year else None))
