from django.urls import path

from . import views

app_name = "supervision"
urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("key/<int:pk>/", views.key_detail, name="key_detail"),
    path("rechecks/", views.recheck_list, name="recheck_list"),
    path("rechecks/new/", views.recheck_create, name="recheck_create"),
    path("rechecks/<int:pk>/", views.recheck_detail, name="recheck_detail"),
    path("rechecks/samples/<int:pk>/", views.sample_detail, name="sample_detail"),
    path("reviews/", views.review_list, name="review_list"),
    path("reviews/new/", views.review_create, name="review_create"),
    path("reviews/<int:pk>/", views.review_detail, name="review_detail"),
    path("reviews/items/<int:pk>/", views.review_item, name="review_item"),
    path("reviews/items/<int:pk>/<slug:step>/", views.review_item, name="review_item_step"),
    path("classes/", views.class_list, name="class_list"),
    path("classes/link/", views.class_link, name="class_link"),
    path("classes/<int:pk>/", views.class_detail, name="class_detail"),
    path("classes/<int:pk>/together/", views.class_together, name="class_together"),
    path("classes/members/<int:pk>/unlink/", views.class_unlink, name="class_unlink"),
]
