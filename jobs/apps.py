from django.apps import AppConfig
from django.utils.module_loading import autodiscover_modules


class JobsConfig(AppConfig):
    name = "jobs"
    verbose_name = "Background jobs"

    def ready(self):
        from jobs import records  # noqa: F401 - connects the run records to the task signals

        # Each app's tasks.py declares its jobs and their schedule (jobs.schedule).
        autodiscover_modules("tasks")
