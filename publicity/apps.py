from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PublicityConfig(AppConfig):
    name = "publicity"
    verbose_name = _("公示公开")

    def ready(self) -> None:
        from funds.signals import batch_published
        from publicity.transparency import on_batch_published

        # In publish_batch's transaction: a publication that cannot be logged is not made.
        batch_published.connect(on_batch_published, dispatch_uid="publicity.transparency")
