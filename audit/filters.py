"""The audit page's filters: one FilterSet for the page and its Excel export."""
import datetime as dt

import django_filters
from django import forms
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .models import AuditEntry
from .receivers import audited_models


def model_choices():
    return sorted(((m._meta.label_lower, f"{m._meta.verbose_name} ({m._meta.label_lower})")
                   for m in audited_models()), key=lambda c: c[0])


class DateInput(forms.DateInput):
    input_type = "date"


# Days outside this range are clamped: year 1 or 9999 would overflow once shifted to UTC.
FIRST_DAY, LAST_DAY = dt.date(1900, 1, 1), dt.date(2999, 12, 31)


def _start_of(day):
    day = min(max(day, FIRST_DAY), LAST_DAY)
    return timezone.make_aware(dt.datetime.combine(day, dt.time.min))


class AuditFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(label=_("Text"), method="search", widget=forms.TextInput(
        attrs={"type": "search", "placeholder": _("record, changed values, path")}))
    actor = django_filters.CharFilter(label=_("User"), field_name="actor_name", lookup_expr="iexact")
    model = django_filters.ChoiceFilter(label=_("Record type"), field_name="model_label", choices=model_choices,
                                        empty_label=_("All"))
    object_id = django_filters.CharFilter(label=_("Record id"), field_name="object_id", lookup_expr="exact")
    action = django_filters.ChoiceFilter(label=_("Action"), choices=AuditEntry.Action.choices, empty_label=_("All"))
    channel = django_filters.ChoiceFilter(label=_("Channel"), choices=AuditEntry.Channel.choices,
                                          empty_label=_("All"))
    since = django_filters.DateFilter(label=_("From"), method="from_day", widget=DateInput())
    until = django_filters.DateFilter(label=_("To"), method="to_day", widget=DateInput())

    class Meta:
        model = AuditEntry
        fields = ["q", "actor", "model", "object_id", "action", "channel", "since", "until"]

    def search(self, queryset, name, value):
        value = value.strip()[:100]
        if not value:
            return queryset
        return queryset.filter(Q(object_repr__icontains=value) | Q(changes__icontains=value)
                               | Q(path__icontains=value) | Q(actor_name__icontains=value))

    # Whole local days as a range on the indexed column, not a function of it.
    def from_day(self, queryset, name, value):
        return queryset.filter(at__gte=_start_of(value))

    def to_day(self, queryset, name, value):
        return queryset.filter(at__lt=_start_of(min(value, LAST_DAY) + dt.timedelta(days=1)))
