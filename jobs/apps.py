from django.apps import AppConfig
from django.utils.module_loading import autodiscover_modules
from django.utils.translation import gettext_lazy as _


class JobsConfig(AppConfig):
    name = "jobs"
    verbose_name = _("Background jobs")

    def ready(self):
        from jobs import records  # noqa: F401 - connects the run records to the task signals

        # Each app's tasks.py declares its jobs and their schedule (jobs.schedule).
        autodiscover_modules("tasks")
