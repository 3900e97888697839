"""`manage.py run_worker`: run queued jobs until stopped (SIGTERM/SIGINT finish the current job
first). Start as many as you like, on as many machines: each job runs on one of them."""

import logging
import os
import socket

from django.utils.crypto import get_random_string
from django_tasks_db.compat import TASKS_LOGGER
from django_tasks_db.management.commands.db_worker import Command as DatabaseWorkerCommand

from jobs.worker import Worker


class Command(DatabaseWorkerCommand):
    help = "Run background jobs from the database queue, with heartbeats, retries and recovery."

    def add_arguments(self, parser):
        super().add_arguments(parser)
        parser.set_defaults(
            queue_name="*",
            reload=False,
            worker_id=f"{socket.gethostname()[:30]}-{os.getpid()}-{get_random_string(8)}",
        )

    def configure_logging(self, verbosity: int) -> None:
        super().configure_logging(verbosity)
        if verbosity == 1:
            # A line per start and per end of each job (a 5 s job: 35,000 a day) only with -v 2;
            # failures are logged at ERROR whatever the verbosity.
            logging.getLogger(TASKS_LOGGER).setLevel(logging.WARNING)

    def handle(
        self,
        *,
        verbosity,
        queue_name,
        interval,
        batch,
        backend_name,
        startup_delay,
        max_tasks,
        worker_id,
        exclude_queues,
        **options,
    ):
        self.configure_logging(verbosity)
        worker = Worker(
            queue_names=queue_name.split(","),
            interval=interval,
            batch=batch,
            backend_name=backend_name,
            startup_delay=startup_delay,
            max_tasks=max_tasks,
            worker_id=worker_id,
            excluded_queue_names=exclude_queues.split(",") if exclude_queues else [],
        )
        worker.configure_signals()
        self.stdout.write(f"Worker {worker_id} started (queues {queue_name}).")
        self.stdout.flush()
        worker.run()
