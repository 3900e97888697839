from django.apps import AppConfig


class PosConfig(AppConfig):
    name = "pos"
    verbose_name = "Point of sale"

    def ready(self):
        # monitoring never imports the shop: the shop hands it what it wants watched.
        from pos import monitoring

        monitoring.register()
