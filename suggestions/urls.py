from django.urls import path

from . import views

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
]
