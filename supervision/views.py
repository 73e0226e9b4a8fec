"""The supervision pages. Each view loads through the scope, validates a form, calls one action
and redirects. Pages about one item follow the item's scope (another department's: 404); the
office's campaigns are the office's (anyone else: 404); a step the user may only read is 403."""
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Count, Exists, OuterRef, Prefetch, Q
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from departments import scoping
from suggestions import workflow
from suggestions.choices import AssignmentRole, AssignmentState
from suggestions.models import Assignment, Suggestion

from . import actions, forms, queries
from .models import (
    KeyProgressReport,
    RecheckCampaign,
    RecheckResult,
    RecheckSample,
    ReviewCampaign,
    ReviewItem,
    SimilarClass,
    SimilarClassMember,
)

PAGE_SIZE = 50


def _lead_assignments():
    return Prefetch("assignments", to_attr="leads", queryset=Assignment.objects.filter(role=AssignmentRole.LEAD)
                    .exclude(state=AssignmentState.RETURNED).select_related("department").order_by("pk"))


def _office(request):
    """The office's own pages: the coordinator and the liaison office read them; nobody else sees them."""
    if not scoping.access(request.user).sees_everything:
        raise Http404
    return scoping.is_coordinator(request.user)


def _coordinator(request):
    _office(request)
    if not scoping.is_coordinator(request.user):
        raise PermissionDenied


def _number(value, digits=18):
    """An id or a year from a query or a post: ASCII digits only (int() also takes ² and ٣), and no
    more than a database column holds; anything else is None."""
    value = (value or "").strip()
    return int(value) if value.isascii() and value.isdigit() and len(value) <= digits else None


def _done(request, message, to, *args):
    messages.success(request, message)
    return redirect(to, *args)


# --- key suggestions --------------------------------------------------------------------------

@login_required
def dashboard(request):
    """Key suggestions in the user's scope: who supervises them, their deadlines, this period's report."""
    today = timezone.localdate()
    year = request.GET.get("year") or ""
    leader = request.GET.get("leader") or ""
    items = queries.key_items(request.user, year=_number(year, digits=4), leader=leader or None,
                              today=today).prefetch_related(_lead_assignments())
    counts = queries.key_counts(items, today)
    page = Paginator(items, PAGE_SIZE).get_page(request.GET.get("page"))
    visible = scoping.suggestions(request.user).filter(is_key=True)
    context = {
        "page": page, "counts": counts, "today": today, "period": queries.period_of(today),
        "years": visible.values_list("year", flat=True).distinct().order_by("-year"),
        "leaders": visible.exclude(supervising_leader="").values_list("supervising_leader", flat=True)
        .distinct().order_by("supervising_leader"),
        "year": year, "leader": leader, "office": scoping.access(request.user).sees_everything,
    }
    return render(request, "supervision/dashboard.html", context)


@login_required
def key_detail(request, pk):
    s = get_object_or_404(scoping.suggestions(request.user).filter(is_key=True).select_related("lead_deputy"), pk=pk)
    leads = [a for a in s.assignments.filter(role=AssignmentRole.LEAD).exclude(state=AssignmentState.RETURNED)
             .select_related("department")]
    mine = next((a for a in leads if workflow.allowed(request.user, "add_progress", a)), None)
    form = forms.KeyReportForm(request.POST or None)
    if request.method == "POST":
        if mine is None:
            raise PermissionDenied
        if form.is_valid():
            try:
                actions.report_key_progress(mine, actor=request.user, text=form.cleaned_data["text"])
            except workflow.WorkflowError as e:
                form.add_error(None, str(e))
            else:
                return _done(request, _("Progress report recorded."), "supervision:key_detail", s.pk)
    reports = KeyProgressReport.objects.filter(suggestion=s).select_related("note", "assignment__department",
                                                                           "reported_by")
    start, end = queries.period_of(timezone.localdate())
    context = {"s": s, "leads": leads, "reports": reports, "form": form if mine else None, "mine": mine,
               "period": (start, end), "reported": any(r.period_start == start for r in reports)}
    return render(request, "supervision/key_detail.html", context, status=400 if form.errors else 200)


# --- sampled re-checks ------------------------------------------------------------------------

@login_required
def recheck_list(request):
    can_edit = _office(request)
    campaigns = RecheckCampaign.objects.annotate(
        sampled=Count("samples"), checked=Count("samples", filter=~Q(samples__result=RecheckResult.PENDING)),
        not_done=Count("samples", filter=Q(samples__result=RecheckResult.NOT_DONE)))
    form = forms.RecheckForm() if can_edit else None
    return render(request, "supervision/recheck_list.html", {"campaigns": campaigns, "form": form})


@login_required
@require_POST
def recheck_create(request):
    _coordinator(request)
    form = forms.RecheckForm(request.POST)
    if form.is_valid():
        d = form.cleaned_data
        try:
            campaign = actions.create_recheck(actor=request.user, title=d["title"], replied_from=d["replied_from"],
                                              replied_to=d["replied_to"], size=d["size"], percent=d["percent"],
                                              seed=d["seed"])
        except workflow.WorkflowError as e:
            form.add_error(None, str(e))
        else:
            return _done(request, _("%(n)s items drawn.") % {"n": campaign.samples.count()},
                         "supervision:recheck_detail", campaign.pk)
    campaigns = RecheckCampaign.objects.annotate(sampled=Count("samples"))
    return render(request, "supervision/recheck_list.html", {"campaigns": campaigns, "form": form}, status=400)


@login_required
def recheck_detail(request, pk):
    can_edit = _office(request)
    campaign = get_object_or_404(RecheckCampaign, pk=pk)
    form = forms.CheckersForm(request.POST or None, campaign=campaign) if can_edit else None
    if request.method == "POST":
        if not can_edit:
            raise PermissionDenied
        if form.is_valid():
            actions.assign_checkers(form.cleaned_data["samples"], actor=request.user,
                                    checkers=form.cleaned_data["checkers"])
            return _done(request, _("Checkers assigned."), "supervision:recheck_detail", campaign.pk)
    samples = (campaign.samples.select_related("suggestion").prefetch_related(
        "checkers", Prefetch("suggestion__assignments", to_attr="leads", queryset=Assignment.objects.filter(
            role=AssignmentRole.LEAD).exclude(state=AssignmentState.RETURNED).select_related("department")))
        .annotate(findings_count=Count("findings")).order_by("suggestion__year", "suggestion__number"))
    context = {"campaign": campaign, "samples": samples, "form": form}
    return render(request, "supervision/recheck_detail.html", context, status=400 if form and form.errors else 200)


@login_required
def sample_detail(request, pk):
    can_edit = _office(request)
    sample = get_object_or_404(RecheckSample.objects.select_related("campaign", "suggestion"), pk=pk)
    form = forms.FindingForm(request.POST or None) if can_edit else None
    if request.method == "POST":
        if not can_edit:
            raise PermissionDenied
        if form.is_valid():
            d = form.cleaned_data
            try:
                actions.record_finding(sample, actor=request.user, method=d["method"], checked_on=d["checked_on"],
                                       result=d["result"], text=d["text"])
            except workflow.WorkflowError as e:
                form.add_error(None, str(e))
            else:
                return _done(request, _("Finding recorded."), "supervision:recheck_detail", sample.campaign_id)
    context = {"sample": sample, "s": sample.suggestion, "form": form,
               "findings": sample.findings.select_related("recorded_by"), "checkers": sample.checkers.all()}
    return render(request, "supervision/sample_detail.html", context, status=400 if form and form.errors else 200)


# --- follow-up reviews and the look-back --------------------------------------------------------

@login_required
def review_list(request):
    can_edit = _office(request)
    campaigns = ReviewCampaign.objects.annotate(
        candidates=Count("items"), reassigned=Count("items", filter=Q(items__assignment__isnull=False)),
        solved=Count("items", filter=Q(items__new_outcome="solved")))
    form = forms.ReviewForm() if can_edit else None
    return render(request, "supervision/review_list.html", {"campaigns": campaigns, "form": form})


@login_required
@require_POST
def review_create(request):
    _coordinator(request)
    form = forms.ReviewForm(request.POST)
    if form.is_valid():
        d = form.cleaned_data
        try:
            campaign = actions.create_review(actor=request.user, kind=d["kind"], year=d["year"], title=d["title"],
                                             first_year=d["first_year"], last_year=d["last_year"])
        except workflow.WorkflowError as e:
            form.add_error(None, str(e))
        else:
            return _done(request, _("%(n)s candidates listed.") % {"n": campaign.items.count()},
                         "supervision:review_detail", campaign.pk)
    return render(request, "supervision/review_list.html", {"campaigns": ReviewCampaign.objects.all(),
                                                             "form": form}, status=400)


@login_required
def review_detail(request, pk):
    _office(request)
    campaign = get_object_or_404(ReviewCampaign, pk=pk)
    items = (campaign.items.select_related("suggestion", "assignment__department")
             .prefetch_related(Prefetch("suggestion__assignments", to_attr="leads", queryset=Assignment.objects
                                        .filter(role=AssignmentRole.LEAD).exclude(state=AssignmentState.RETURNED)
                                        .select_related("department")))
             .order_by("suggestion__year", "suggestion__number"))
    page = Paginator(items, PAGE_SIZE).get_page(request.GET.get("page"))
    counts = campaign.items.aggregate(candidates=Count("pk"),
                                      reassigned=Count("pk", filter=Q(assignment__isnull=False)),
                                      concluded=Count("pk", filter=~Q(new_outcome="")),
                                      solved=Count("pk", filter=Q(new_outcome="solved")))
    return render(request, "supervision/review_detail.html", {"campaign": campaign, "page": page, "counts": counts})


REVIEW_STEPS = {
    "reassign": (forms.ReassignForm, lambda item, user, d: actions.reassign_review_item(
        item, actor=user, department=d["department"], assigned_on=d["assigned_on"], note=d["note"])),
    "outcome": (forms.ReviewOutcomeForm, lambda item, user, d: actions.record_review_outcome(
        item, actor=user, outcome=d["outcome"], effective_on=d["effective_on"], note=d["note"],
        completion_date=d["completion_date"])),
    "note": (forms.ReviewNoteForm, lambda item, user, d: actions.record_review_note(
        item, actor=user, text=d["text"], reviewed_on=d["reviewed_on"])),
}


@login_required
def review_item(request, pk, step=None):
    """One candidate of a review, with the forms to re-assign it, record its outcome or a finding."""
    can_edit = _office(request)
    item = get_object_or_404(ReviewItem.objects.select_related("campaign", "suggestion", "assignment__department"),
                             pk=pk)
    bound = None
    if request.method == "POST":
        if step not in REVIEW_STEPS:
            raise Http404
        if not can_edit:
            raise PermissionDenied
        form_class, fn = REVIEW_STEPS[step]
        bound = (step, form_class(request.POST, prefix=step))
        if bound[1].is_valid():
            try:
                fn(item, request.user, bound[1].cleaned_data)
            except workflow.WorkflowError as e:
                bound[1].add_error(None, str(e))
            else:
                return _done(request, _("Saved."), "supervision:review_item", item.pk)
    step_forms = {}
    if can_edit:
        for name, (form_class, _fn) in REVIEW_STEPS.items():
            step_forms[name] = bound[1] if bound and bound[0] == name else form_class(prefix=name)
        leads = item.suggestion.assignments.filter(role=AssignmentRole.LEAD).exclude(state=AssignmentState.RETURNED)
        first = leads.order_by("pk").first()
        if first and not (bound and bound[0] == "reassign"):
            step_forms["reassign"].initial["department"] = first.department_id
    s = item.suggestion
    context = {"item": item, "s": s, "forms": step_forms,
               "leads": s.assignments.filter(role=AssignmentRole.LEAD).select_related("department"),
               "outcomes": s.outcome_records.order_by("effective_on", "pk")}
    return render(request, "supervision/review_item.html", context, status=400 if bound else 200)


# --- classes of similar suggestions -------------------------------------------------------------

def _classes(user):
    """The office sees every class; a department, the classes holding one of its items."""
    if scoping.access(user).sees_everything:
        return SimilarClass.objects.all()
    visible = SimilarClassMember.objects.filter(klass=OuterRef("pk"), suggestion__in=scoping.suggestions(user))
    return SimilarClass.objects.filter(Exists(visible))


@login_required
def class_list(request):
    classes = (_classes(request.user).annotate(size=Count("members"))
               .prefetch_related(Prefetch("members", queryset=SimilarClassMember.objects.select_related("suggestion")
                                          .order_by("suggestion__year", "suggestion__number")))
               .order_by("-created_at", "-pk"))
    page = Paginator(classes, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "supervision/class_list.html", {"page": page})


@login_required
def class_detail(request, pk):
    klass = get_object_or_404(_classes(request.user), pk=pk)
    members = (scoping.suggestions(request.user).filter(similar_class_member__klass=klass)
               .select_related("lead_deputy", "similar_class_member").prefetch_related(_lead_assignments())
               .order_by("year", "number"))
    coordinator = scoping.is_coordinator(request.user)
    form = forms.HandleTogetherForm() if coordinator else None
    return render(request, "supervision/class_detail.html", {"klass": klass, "members": members, "form": form,
                                                              "coordinator": coordinator})


@login_required
@require_POST
def class_link(request):
    """From a suggestion's similar list: link it and the ticked ones as one class."""
    _coordinator(request)
    ids = [n for n in map(_number, request.POST.getlist("suggestions")) if n is not None]
    chosen = list(scoping.suggestions(request.user).filter(pk__in=ids))
    if len(chosen) != len(set(ids)):
        raise Http404
    name = forms.ClassNameForm(request.POST)
    try:
        klass = actions.link_class(chosen, actor=request.user,
                                   name=name.cleaned_data["name"] if name.is_valid() else "")
    except workflow.WorkflowError as e:
        messages.error(request, str(e))
        back = _number(request.POST.get("back"))
        return redirect("suggestions:detail", back) if back else redirect("supervision:class_list")
    return _done(request, _("Linked as one class."), "supervision:class_detail", klass.pk)


@login_required
@require_POST
def class_unlink(request, pk):
    _coordinator(request)
    member = get_object_or_404(SimilarClassMember.objects.select_related("klass", "suggestion"), pk=pk)
    klass_pk = member.klass_id
    actions.unlink_class(member, actor=request.user)
    if SimilarClass.objects.filter(pk=klass_pk).exists():
        return _done(request, _("Unlinked."), "supervision:class_detail", klass_pk)
    return _done(request, _("Unlinked."), "supervision:class_list")


@login_required
@require_POST
def class_together(request, pk):
    _coordinator(request)
    klass = get_object_or_404(SimilarClass, pk=pk)
    form = forms.HandleTogetherForm(request.POST)
    if form.is_valid():
        d = form.cleaned_data
        try:
            assigned, noted = actions.handle_together(klass, actor=request.user, note=d["note"], lead=list(d["lead"]),
                                                      co=list(d["co"]), assigned_on=d["assigned_on"])
        except workflow.WorkflowError as e:
            form.add_error(None, str(e))
        else:
            return _done(request, _("Handled together: %(a)s assigned, %(n)s noted.") % {
                "a": len(assigned), "n": len(noted)}, "supervision:class_detail", klass.pk)
    members = (Suggestion.objects.filter(similar_class_member__klass=klass).select_related("lead_deputy")
               .prefetch_related(_lead_assignments()).order_by("year", "number"))
    return render(request, "supervision/class_detail.html", {"klass": klass, "members": members, "form": form,
                                                              "coordinator": True}, status=400)
