"""The fiscal day reports (X, Z, PLU) for managers: one page, printable."""

from datetime import date, timedelta

from django.contrib.auth.decorators import login_required, permission_required
from django.http import Http404
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext

from fiscal.reports import day_report

KINDS = ("x", "z", "plu")


@login_required
@permission_required("pos.view_reports", raise_exception=True)
def report(request, kind: str):
    if kind not in KINDS:
        raise Http404
    today = timezone.localdate()
    # A Z report is of a day that has ended: yesterday unless another day is asked for.
    default = today - timedelta(days=1) if kind == "z" else today
    try:
        day = date.fromisoformat(request.GET.get("day") or default.isoformat())
    except ValueError:
        day = default
    problem = ""
    if kind == "z" and day >= today:
        problem = gettext("A Z report is of a day that has ended: choose an earlier day.")
    context = {
        "kind": kind,
        "day": day,
        "today": today,
        "report": None if problem else day_report(day),
        "problem": problem,
    }
    return render(request, "fiscal/report.html", context, status=400 if problem else 200)
