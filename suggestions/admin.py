"""Administration of reference data. Workflow state is read-only here: it changes only through
`suggestions.workflow`, so the admin cannot skip a step or lose an event."""
from django.contrib import admin

from . import workflow
from .models import Assignment, Category, Deputy, Event, ImportJob, Notification, Suggestion

STATE_FIELDS = ("state", "outcome", "first_replied_on", "replied_on_time", "assigned_on", "awaiting_feedback",
                "version")


@admin.register(Category)
class CategoryAdmin(admin.ModelAdmin):
    list_display = ["name", "order"]
    search_fields = ["name"]


@admin.register(Deputy)
class DeputyAdmin(admin.ModelAdmin):
    list_display = ["name", "level", "delegation", "user"]
    list_filter = ["level"]
    search_fields = ["name", "delegation"]
    autocomplete_fields = ["user"]

    def has_delete_permission(self, request, obj=None):
        return False  # a deputy stays on the record of every suggestion they signed, co-signed ones too


class ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class AssignmentInline(ReadOnlyInline):
    model = Assignment
    fields = ["department", "role", "state", "assigned_on", "due_date", "outcome"]


class EventInline(ReadOnlyInline):
    model = Event
    fields = ["at", "kind", "actor", "detail"]


@admin.register(Suggestion)
class SuggestionAdmin(admin.ModelAdmin):
    """Details only; nothing here is deleted (withdraw through the suggestion page instead)."""

    list_display = ["number", "year", "title", "state", "outcome", "source"]
    list_filter = ["year", "state", "outcome", "source", "is_key"]
    search_fields = ["number", "title"]
    readonly_fields = STATE_FIELDS
    autocomplete_fields = ["lead_deputy", "co_deputies"]
    inlines = [AssignmentInline, EventInline]

    def has_delete_permission(self, request, obj=None):
        return False

    def has_add_permission(self, request):
        return False

    def save_model(self, request, obj, form, change):
        """Details change through the workflow, so the timeline records them like any other change."""
        changes = {f: form.cleaned_data[f] for f in form.changed_data if f in workflow.EDITABLE_FIELDS}
        if changes:
            workflow.update(obj, actor=request.user, **changes)

    def save_related(self, request, form, formsets, change):
        for formset in formsets:  # read-only inlines: nothing to save, but the admin reads what was saved
            self.save_formset(request, form, formset, change)
        if "co_deputies" in form.changed_data:
            workflow.update(form.instance, actor=request.user, co_deputies=form.cleaned_data["co_deputies"])


@admin.register(Event)
class EventAdmin(admin.ModelAdmin):
    """The timeline is append-only: readable, never edited or deleted."""

    list_display = ["at", "kind", "suggestion", "actor"]
    list_filter = ["kind"]
    search_fields = ["suggestion__number", "detail"]
    list_select_related = ["suggestion", "actor"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Notification)
class NotificationAdmin(admin.ModelAdmin):
    list_display = ["created_at", "recipient", "text", "read_at"]
    list_select_related = ["recipient"]


@admin.register(ImportJob)
class ImportJobAdmin(admin.ModelAdmin):
    list_display = ["created_at", "original_name", "state", "total_rows", "created_by"]
    readonly_fields = ["errors", "summary"]

# The working-day calendar has its own module (its admin and what a change to it sets off).
from . import calendar_admin  # noqa: E402, F401
