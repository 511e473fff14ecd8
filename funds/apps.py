from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _

#: Apps whose permissions the roles hold: the groups are set again once each is migrated.
ROLE_APPS = {"funds", "publicity", "api"}


def _setup_roles(sender, using="default", **kwargs) -> None:
    if sender.label in ROLE_APPS:
        from funds.access import setup_roles

        setup_roles(using=using)


class FundsConfig(AppConfig):
    name = "funds"
    verbose_name = _("资金与发放")

    def ready(self) -> None:
        post_migrate.connect(_setup_roles, dispatch_uid="funds.setup_roles")
