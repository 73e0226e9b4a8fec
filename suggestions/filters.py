"""The suggestion list's filters: one FilterSet for the page, the Excel export and the counts."""
import hashlib
import html
import uuid

import django_filters
from django import forms
from django.contrib.postgres.fields import ArrayField
from django.contrib.postgres.lookups import DataContains
from django.core.cache import cache
from django.db import connections, transaction
from django.db.models import Exists, Expression, Func, OuterRef, Q, TextField, Value
from django.forms.models import ModelChoiceIterator
from django.forms.utils import flatatt
from django.utils import timezone
from django.utils.html import format_html
from django.utils.safestring import mark_safe
from django.utils.translation import gettext_lazy as _

from departments import scoping
from departments.models import Department, Street

from .choices import OPEN_ASSIGNMENT_STATES, Outcome, Source, SuggestionState
from .models import Assignment, Category, Deputy, Suggestion

YES_NO = [("1", _("Yes")), ("0", _("No"))]
CHOICES_SECONDS = 300  # the staleness bound where the cache is per process (no Redis, several workers)


class QuickSelect(forms.Select):
    """A <select> written in Python, with the same markup as Django's. Django renders each <option>
    through a template of its own, and reads a model's choices through a server-side cursor (four
    round trips): for the 300 departments of a large system that was most of the list page's time
    (`make bench`, docs/PERFORMANCE.md)."""

    def render(self, name, value, attrs=None, renderer=None):
        attrs = self.build_attrs(self.attrs, attrs)
        chosen = set(self.format_value(value))
        choices = self.choices
        if isinstance(choices, ModelChoiceIterator):
            field = choices.field
            options = [escaped_option("", field.empty_label)] if field.empty_label is not None else []
            options += model_options(field)
        else:
            options = [escaped_option(key, label) for key, label in choices]
        html_options = "".join(f'<option value="{escaped_key}"{" selected" if key in chosen else ""}>{escaped_label}'
                               f"</option>" for key, escaped_key, escaped_label in options)
        return format_html('<select name="{}"{}>{}</select>', name, flatatt(attrs), mark_safe(html_options))


def escaped_option(key, label):
    """(key, key escaped, label escaped) of an <option>: the standard library's escape, as Django's does
    it, without the lazy-string wrapper per call."""
    key = str(key)
    return key, html.escape(key), html.escape(str(label))


class QuickInputMixin:
    """An <input> written in Python, with the same markup as Django's template (see QuickSelect)."""

    def render(self, name, value, attrs=None, renderer=None):
        attrs = self.build_attrs(self.attrs, attrs)
        value = self.format_value(value)
        shown = format_html(' value="{}"', value) if value is not None else ""
        return format_html('<input type="{}" name="{}"{}{}>', self.input_type, name, shown, flatatt(attrs))


class QuickSearchInput(QuickInputMixin, forms.TextInput):
    input_type = "search"


class QuickNumberInput(QuickInputMixin, forms.NumberInput):
    pass


# Reference data (departments, categories, streets) changes a few times a year and fills every list
# page's filter form: its choices are cached, under a version that any save or delete of those
# models moves on (`suggestions.apps`), in the shared cache (Redis in production).
REFERENCE_VERSION = "reference-data-version"


def reference_data_changed(**kwargs):
    """A save or delete of reference data: a new version now, and again once it is committed, so that
    a list page read in between (the old rows, the new version) is not kept under the new version."""
    _new_reference_version()
    transaction.on_commit(_new_reference_version)


def _new_reference_version():
    cache.set(REFERENCE_VERSION, uuid.uuid4().hex, None)


def model_options(field):
    """`escaped_option`s of a ModelChoiceField's queryset, from the cache while the reference data stands
    (300 departments are 600 escapes a page otherwise)."""
    version = cache.get(REFERENCE_VERSION)
    if version is None:
        _new_reference_version()
        version = cache.get(REFERENCE_VERSION)
    query = str(field.queryset.query).encode()
    key = f"model-options:{version}:{hashlib.sha256(query).hexdigest()}"
    options = cache.get(key)
    if options is None:
        options = [escaped_option(field.prepare_value(obj), field.label_from_instance(obj)) for obj in field.queryset]
        cache.set(key, options, CHOICES_SECONDS)
    return options


class SearchGrams(Expression):
    """PostgreSQL: the upper-cased character bigrams of a suggestion's number and title, a GIN-indexed
    column that a trigger keeps (migration 0005) and the model does not declare."""

    output_field = ArrayField(TextField())

    def as_sql(self, compiler, connection):
        return f"{compiler.quote_name_unless_alias(compiler.query.get_initial_alias())}.search_grams", []


class SuggestionFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(label=_("Search"), method="search", widget=QuickSearchInput(
        attrs={"placeholder": _("number, title, deputy")}))
    year = django_filters.NumberFilter(label=_("Year"), widget=QuickNumberInput)
    source = django_filters.ChoiceFilter(label=_("Source"), choices=Source.choices, empty_label=_("All"),
                                         widget=QuickSelect)
    state = django_filters.ChoiceFilter(label=_("State"), choices=SuggestionState.choices, empty_label=_("All"),
                                        widget=QuickSelect)
    outcome = django_filters.ChoiceFilter(label=_("Outcome"), choices=Outcome.choices, empty_label=_("All"),
                                          widget=QuickSelect)
    department = django_filters.ModelChoiceFilter(label=_("Department"), queryset=Department.objects.all(),
                                                  method="by_department", empty_label=_("All"), widget=QuickSelect)
    category = django_filters.ModelChoiceFilter(label=_("Category"), queryset=Category.objects.all(),
                                                empty_label=_("All"), widget=QuickSelect)
    street = django_filters.ModelChoiceFilter(label=_("Street or town"), queryset=Street.objects.all(),
                                              empty_label=_("All"), widget=QuickSelect)
    is_key = django_filters.ChoiceFilter(label=_("Key suggestion"), choices=YES_NO, method="by_bool",
                                         empty_label=_("All"), widget=QuickSelect)
    overdue = django_filters.ChoiceFilter(label=_("Overdue"), choices=YES_NO, method="by_overdue",
                                          empty_label=_("All"), widget=QuickSelect)

    class Meta:
        model = Suggestion
        fields = ["q", "year", "source", "state", "outcome", "department", "category", "street", "is_key",
                  "overdue"]

    def get_form_class(self):
        """The form class, made once: django-filter makes a new class, and each of its fields, for every
        FilterSet, so on every list page. It depends on the declared filters alone; each form still
        gets its own copy of the fields (Django's Form deep-copies them)."""
        cls = type(self)
        if "_form_class" not in cls.__dict__:
            cls._form_class = super().get_form_class()
        return cls._form_class

    def search(self, queryset, name, value):
        value = value.strip()[:100]
        if not value:
            return queryset
        # The lead deputy's name is matched first, in its own small table: with an id list every part
        # of the condition is on this table, where PostgreSQL ORs their indexes (migration 0005).
        deputies = list(Deputy.objects.filter(name__icontains=value).order_by().values_list("pk", flat=True))
        text = Q(number__icontains=value) | Q(title__icontains=value)
        if len(value) == 2 and connections[queryset.db].vendor == "postgresql":
            # Two characters (most Chinese words) are too few for a trigram index; the bigram index
            # answers exactly the same question: upper-cased, are they in the number or the title?
            text = DataContains(SearchGrams(), Func(Value(value), function="search_bigrams",
                                                    output_field=ArrayField(TextField())))
        return queryset.filter(text | Q(lead_deputy__in=deputies))

    def by_department(self, queryset, name, value):
        return queryset.filter(Exists(Assignment.objects.filter(suggestion=OuterRef("pk"), department=value)
                                      .exclude(state="returned")))

    def by_bool(self, queryset, name, value):
        return queryset.filter(**{name: value == "1"})

    def by_overdue(self, queryset, name, value):
        late = Q(Exists(Assignment.objects.filter(suggestion=OuterRef("pk"), state__in=OPEN_ASSIGNMENT_STATES,
                                                  due_date__lt=timezone.localdate()))) & ~Q(state="withdrawn")
        return queryset.filter(late) if value == "1" else queryset.exclude(late)


def for_user(user, data):
    """The list's pipeline, shared by the page, the export and the background export's worker:
    the user's scope → this FilterSet over the query string `data` (a QueryDict)."""
    return SuggestionFilter(data or None, queryset=scoping.suggestions(user))
