"""URLs: the support automation's dashboard endpoints under /api/v1/support-management/."""

from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/v1/support-management/", include("support.urls")),
]
