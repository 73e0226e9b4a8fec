from django.urls import path

from . import views

app_name = "public"
urlpatterns = [
    path("", views.reply_list, name="list"),
    path("<int:pk>/", views.reply_detail, name="detail"),
]
