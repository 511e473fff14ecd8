from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DemoConfig(AppConfig):
    """Installed by config.settings.dev and config.settings.test only, never in production."""

    name = "demo"
    verbose_name = _("演示数据")
