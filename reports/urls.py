from django.urls import path

from . import views

app_name = "reports"
urlpatterns = [
    path("annual/", views.annual, name="annual"),
    path("annual.xlsx", views.annual_xlsx, name="annual_xlsx"),
    path("annual.docx", views.annual_docx, name="annual_docx"),
]
