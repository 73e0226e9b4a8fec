"""Supervision records in the admin, to look at only: every change goes through supervision.actions."""
from django.contrib import admin

from .models import KeyProgressReport, RecheckCampaign, RecheckFinding, ReviewCampaign, SimilarClass


class ReadOnly(admin.ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(RecheckCampaign)
class RecheckCampaignAdmin(ReadOnly):
    list_display = ["title", "replied_from", "replied_to", "seed", "population", "created_at"]


@admin.register(RecheckFinding)
class RecheckFindingAdmin(ReadOnly):
    list_display = ["sample", "method", "checked_on", "result"]
    list_filter = ["method", "result"]


@admin.register(ReviewCampaign)
class ReviewCampaignAdmin(ReadOnly):
    list_display = ["title", "kind", "year", "first_year", "last_year", "cutoff"]


@admin.register(SimilarClass)
class SimilarClassAdmin(ReadOnly):
    list_display = ["name", "created_at"]
    search_fields = ["name"]


@admin.register(KeyProgressReport)
class KeyProgressReportAdmin(ReadOnly):
    list_display = ["suggestion", "period_start", "period_end", "reported_by"]
