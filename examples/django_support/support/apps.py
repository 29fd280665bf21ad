"""The support app: tickets, messages, clients and the support desk's AgentKPI, with KPIs by
teamkpi."""

from django.apps import AppConfig


class SupportConfig(AppConfig):
    name = "support"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Connects the real-time handlers (the support desk) and auto-assign (the CRM assignment).
        from . import signals  # noqa: F401
