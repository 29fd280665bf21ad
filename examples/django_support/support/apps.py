"""The support app: tickets, messages, clients and seed 000's AgentKPI, with KPIs by teamkpi."""

from django.apps import AppConfig


class SupportConfig(AppConfig):
    name = "support"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Connects the real-time handlers (seed 000) and auto-assign (seed 002).
        from . import signals  # noqa: F401
