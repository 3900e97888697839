from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PosConfig(AppConfig):
    name = "pos"
    verbose_name = _("Point of sale")

    def ready(self):
        # monitoring never imports the shop: the shop hands it what it wants watched.
        from pos import monitoring

        monitoring.register()
