from django.urls import path

from . import views

app_name = "suggestions"
urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("suggestions/", views.suggestion_list, name="list"),
]
