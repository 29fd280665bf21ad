"""The support automation's endpoints (under /api/v1/support-management/)."""

from django.urls import path

from . import views

urlpatterns = [
    path("dashboard/analytics/performance/", views.performance),
    path("dashboard/analytics/trends/", views.trends),
    path("dashboard/analytics/comparison/", views.comparison),
    path("dashboard/analytics/sla/", views.sla),
    path("dashboard/analytics/workload/", views.workload),
    path("dashboard/performance/metrics/", views.performance_metrics),
    path("dashboard/performance/trends/", views.performance_trends),
    path("dashboard/sla/breaches/", views.sla_breaches),
]
