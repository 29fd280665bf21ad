"""Admin pages for the example's models (AgentKPI is the support desk's report view)."""

from django.contrib import admin

from .models import Agent, AgentKPI, Client, ClientEvent, CompanySettings, Ticket

admin.site.register([Agent, Ticket, Client, ClientEvent, CompanySettings])


@admin.register(AgentKPI)
class AgentKPIAdmin(admin.ModelAdmin):
    list_display = ("agent", "kpi_date", "total_tickets", "overall_kpi_score")
    list_filter = ("kpi_date",)
