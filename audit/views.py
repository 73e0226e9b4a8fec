"""The audit page for the district office's coordinators: filter the trail, page it, export it.

One pipeline for both (STYLE.md habit 3): entries → AuditFilter → a page or an Excel file, so an
export holds exactly the rows the page filtered.
"""
import json
import tempfile

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import FileResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

from departments import scoping

from .filters import AuditFilter
from .models import AuditEntry

PAGE_SIZE = 50


def _coordinator_only(request):
    if not scoping.is_coordinator(request.user):
        raise PermissionDenied


def filtered_entries(request):
    return AuditFilter(request.GET or None, queryset=AuditEntry.objects.all(), request=request)


def _rows(f):
    return f.qs if f.is_bound else f.queryset


@login_required
def entry_list(request):
    _coordinator_only(request)
    f = filtered_entries(request)
    page = Paginator(_rows(f).order_by("-at", "-pk"), PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(request, "audit/list.html", {"filter": f, "page": page, "query": query.urlencode()},
                  status=400 if f.is_bound and f.errors else 200)


def _text(ws, value):
    """A cell that is always text: no control character (which Excel refuses) and never a formula,
    whatever a user typed (a value starting with "=" would otherwise be written as one)."""
    cell = WriteOnlyCell(ws, value=ILLEGAL_CHARACTERS_RE.sub("", str(value or "")))
    cell.data_type = "s"
    return cell


@login_required
def entry_export(request):
    _coordinator_only(request)
    f = filtered_entries(request)
    wb = Workbook(write_only=True)
    ws = wb.create_sheet(_("Audit trail"))
    ws.append([_("Time"), _("User"), _("IP address"), _("Action"), _("Record type"), _("Record id"), _("Record"),
               _("Channel"), _("Request path, task or command"), _("Changed fields")])
    actions, channels = dict(AuditEntry.Action.choices), dict(AuditEntry.Channel.choices)
    for e in _rows(f).order_by("at", "pk").iterator(chunk_size=2000):
        ws.append([timezone.localtime(e.at).strftime("%Y-%m-%d %H:%M:%S"), _text(ws, e.actor_name),
                   e.ip_address or "", str(actions.get(e.action, e.action)), e.model_label, _text(ws, e.object_id),
                   _text(ws, e.object_repr), str(channels.get(e.channel, e.channel)), _text(ws, e.path),
                   _text(ws, json.dumps(e.changes, ensure_ascii=False))])
    out = tempfile.SpooledTemporaryFile(max_size=8 * 1024 * 1024)
    wb.save(out)
    out.seek(0)
    name = f"audit-{timezone.localdate():%Y%m%d}.xlsx"
    return FileResponse(out, as_attachment=True, filename=name,
                        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
