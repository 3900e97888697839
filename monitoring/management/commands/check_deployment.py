"""`manage.py check_deployment`: score this deployment's production readiness (0-100).

Local checks read the settings, the database and Redis; with --url the live checks probe a
running instance. See monitoring/deployment/ and README "Deployment readiness".
"""

from urllib.parse import urlsplit

from django.core.management.base import BaseCommand, CommandError

from monitoring.deployment import report
from monitoring.deployment.base import CATEGORIES, Context
from monitoring.deployment.runner import run_checks
from monitoring.deployment.score import score


class Command(BaseCommand):
    help = (
        "Check this deployment's production readiness: environment, security, database, cache, "
        "application and (with --url) a live instance. Prints what is wrong, most important "
        "first, with the fix, and a score 0-100."
    )
    requires_system_checks = []  # the checks are part of the report, not a precondition

    def add_arguments(self, parser):
        parser.add_argument("--url", default="", help="a running instance, e.g. https://pos.x")
        parser.add_argument(
            "--token",
            default="",
            help="the deployment's MONITORING_API_TOKEN (sent as Bearer); write --token=VALUE, "
            "since a generated token may start with '-'",
        )
        parser.add_argument("--format", choices=("text", "json"), default="text")
        parser.add_argument(
            "--fail-under",
            type=int,
            default=None,
            metavar="N",
            help="exit with status 1 when the score is below N (for CI and release phases)",
        )
        parser.add_argument(
            "--only",
            action="append",
            choices=CATEGORIES,
            metavar="CATEGORY",
            help=f"run only this category (repeatable): {', '.join(CATEGORIES)}",
        )
        parser.add_argument(
            "--timeout",
            type=float,
            default=5.0,
            help="seconds allowed to each network call of the live checks (default 5)",
        )

    def handle(self, *args, url, token, format, fail_under, only, timeout, **options):
        if url and urlsplit(url).scheme not in ("http", "https"):
            raise CommandError(f"--url must start with https:// or http://, got {url!r}")
        if only and "live" in only and not url:
            raise CommandError("--only live needs --url")
        if timeout <= 0:
            raise CommandError("--timeout must be more than 0 seconds")
        findings = run_checks(
            context=Context(url=url, token=token, timeout=timeout), categories=only
        )
        result = score(findings)
        if format == "json":
            self.stdout.write(report.as_json(findings, result))
        else:
            self.stdout.write(report.as_text(findings, result, style=self.style))
        if fail_under is not None and result.value < fail_under:
            raise CommandError(f"score {result.value} is below --fail-under {fail_under}")
