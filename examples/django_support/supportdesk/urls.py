"""URLs: the support automation's dashboard endpoints under /api/v1/support-management/, and
the CRM assignment's settings endpoint."""

from django.contrib import admin
from django.urls import include, path

from support import views

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/v1/support-management/", include("support.urls")),
    path(
        "api/companies/<int:company_id>/update_assignment_settings/",
        views.update_assignment_settings,
    ),
]
