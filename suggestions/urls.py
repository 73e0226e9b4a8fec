from django.urls import path

from . import io_views, reminder_views, views

app_name = "suggestions"
urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("suggestions/", views.suggestion_list, name="list"),
    path("suggestions/new/", views.suggestion_create, name="create"),
    path("suggestions/<int:pk>/", views.suggestion_detail, name="detail"),
    path("suggestions/<int:pk>/edit/", views.suggestion_edit, name="edit"),
    path("suggestions/<int:pk>/<slug:step>/", views.suggestion_step, name="suggestion_step"),
    path("assignments/<int:pk>/<slug:step>/", views.assignment_step, name="assignment_step"),
    path("replies/<int:pk>/attachment/", views.reply_attachment, name="reply_attachment"),
    path("replies/<int:pk>/<slug:step>/", views.reply_step, name="reply_step"),
    path("extensions/<int:pk>/decide/", views.extension_step, name="extension_step"),
    path("notifications/", views.notifications, name="notifications"),
    path("reminders/", reminder_views.reminder_list, name="reminders"),
    path("suggestions/import/", io_views.import_upload, name="import"),
    path("suggestions/import/template.xlsx", io_views.import_template, name="import_template"),
    path("suggestions/import/<int:pk>/", io_views.import_job, name="import_job"),
    path("suggestions/export.xlsx", io_views.export, name="export"),
    path("suggestions/exports/<int:pk>/", io_views.export_job, name="export_job"),
    path("suggestions/exports/<int:pk>/file.xlsx", io_views.export_file, name="export_file"),
]
