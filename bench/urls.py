"""The product's URLs with the floor views beside them (the benchmark's ROOT_URLCONF only)."""
from django.urls import path

from config.urls import urlpatterns as product

from . import floors

urlpatterns = [
    path("bench/floor/list/", floors.suggestion_list, name="bench_floor_list"),
    path("bench/floor/list/bare/", floors.suggestion_list_bare, name="bench_floor_list_bare"),
    path("bench/floor/page/", floors.page, name="bench_floor_page"),
    *product,
]
