from django.contrib import admin

from .models import AuditEntry


@admin.register(AuditEntry)
class AuditEntryAdmin(admin.ModelAdmin):
    """Readable by staff with the view permission; nobody adds, changes or deletes an entry here."""

    list_display = ["at", "actor_name", "ip_address", "action", "model_label", "object_id", "object_repr", "channel"]
    list_filter = ["action", "channel", "model_label"]
    search_fields = ["object_repr", "actor_name", "object_id"]
    date_hierarchy = "at"
    actions = None

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
