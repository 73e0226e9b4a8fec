"""The published replies: anyone may read them, without logging in.

Only replied, published (`is_public`) items, and of them only what may be published: number, year,
title, lead department, outcome, reply date and the text of the replies sent, with phone numbers
removed. Never the deputy's contact data, never the names of the staff who drafted or signed.
"""
import django_filters
from django import forms
from django.core.paginator import Paginator
from django.db.models import Exists, OuterRef, Prefetch, Q
from django.shortcuts import get_object_or_404, render
from django.utils.translation import gettext_lazy as _

from departments.models import Department
from suggestions.choices import AssignmentRole, AssignmentState, ReplyState, SuggestionState
from suggestions.models import Assignment, OutcomeRecord, Reply, Suggestion

PAGE_SIZE = 20


def published():
    """The items the public may see: replied, marked public, not withdrawn."""
    return Suggestion.objects.filter(is_public=True, first_replied_on__isnull=False).exclude(
        state=SuggestionState.WITHDRAWN)


def _outcome_since():
    """The date of the outcome in force: later than the reply when a follow-up or a look-back changed
    it, and then the reply's text no longer says all (a "for reference" letter, now solved)."""
    return OutcomeRecord.in_force(value="effective_on")


def _leads_with_replies():
    """The lead departments and their sent replies (never drafts), latest round first."""
    replies = Reply.objects.filter(state=ReplyState.SENT).only(
        "pk", "assignment_id", "round", "outcome", "body", "reply_date").order_by("-round", "-pk")
    return Prefetch("assignments", to_attr="leads", queryset=Assignment.objects.filter(role=AssignmentRole.LEAD)
                    .exclude(state=AssignmentState.RETURNED).select_related("department")
                    .prefetch_related(Prefetch("replies", to_attr="sent", queryset=replies)).order_by("pk"))


class PublicFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(label=_("Search"), method="search", widget=forms.TextInput(
        attrs={"type": "search", "placeholder": _("number, title, reply")}))
    year = django_filters.ChoiceFilter(label=_("Year"), choices=(), empty_label=_("All"))
    department = django_filters.ModelChoiceFilter(label=_("Lead department"), method="by_department",
                                                  queryset=Department.objects.none(), empty_label=_("All"))

    class Meta:
        model = Suggestion
        fields = ["q", "year", "department"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        years = published().values_list("year", flat=True).distinct().order_by("-year")
        self.filters["year"].extra["choices"] = [(y, y) for y in years]
        leads = Assignment.objects.filter(role=AssignmentRole.LEAD, suggestion__in=published())
        self.filters["department"].queryset = Department.objects.filter(Exists(leads.filter(
            department=OuterRef("pk"))))

    def search(self, queryset, name, value):
        value = value.strip()[:100]
        if not value:
            return queryset
        in_reply = Exists(Reply.objects.filter(assignment__suggestion=OuterRef("pk"), state=ReplyState.SENT,
                                               assignment__role=AssignmentRole.LEAD, body__icontains=value))
        return queryset.filter(Q(number__icontains=value) | Q(title__icontains=value) | in_reply)

    def by_department(self, queryset, name, value):
        return queryset.filter(Exists(Assignment.objects.filter(
            suggestion=OuterRef("pk"), department=value, role=AssignmentRole.LEAD).exclude(
            state=AssignmentState.RETURNED)))


def reply_list(request):
    f = PublicFilter(request.GET or None, queryset=published())
    qs = f.qs if f.is_bound and f.is_valid() else f.queryset
    qs = (qs.only("pk", "year", "number", "title", "outcome", "first_replied_on")
          .annotate(outcome_since=_outcome_since()).order_by("-year", "number", "pk"))
    page = Paginator(qs.prefetch_related(_leads_with_replies()), PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(request, "public/list.html", {"filter": f, "page": page, "query": query.urlencode()})


def reply_detail(request, pk):
    s = get_object_or_404(published().only("pk", "year", "number", "title", "outcome", "first_replied_on")
                          .annotate(outcome_since=_outcome_since()).prefetch_related(_leads_with_replies()), pk=pk)
    return render(request, "public/detail.html", {"s": s})
