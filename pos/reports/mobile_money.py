"""Mobile Money reconciliation: import MTN's merchant statement, match it with a day or a
shift of the till (pos.services.momo_reconciliation).

Per store (issue 29), like every report: a day's till side is that of the chosen stores' tills
(`store`, pos.reports.forms.StoreForm), a shift is one of the user's stores'. The statement is
the business's one merchant account: a line no till of the chosen stores names may be another
store's, so lines "on the statement only" are listed in the all-stores view alone."""

import datetime

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from core.errors import DomainError
from pos import scoping
from pos.mobile_money import statement
from pos.models import Shift
from pos.reports.forms import StoreForm
from pos.services.momo_reconciliation import import_statement, reconcile_day, reconcile_shift

KIND_NAMES = {
    statement.MATCHED: _("Matched"),
    statement.AMOUNT_DIFFERS: _("Amount differs"),
    statement.LATE_SUCCESS: _("Late success: money taken, no sale"),
    statement.STATEMENT_ONLY: _("On the statement only"),
    statement.POS_ONLY: _("At the till only"),
}
MOST_BYTES = 5 * 1024 * 1024


class StatementForm(forms.Form):
    file = forms.FileField(label=_("MTN statement (CSV)"))


class PeriodForm(StoreForm):
    day = forms.DateField(label=_("Day"), required=False)
    shift = forms.IntegerField(label=_("Shift"), required=False, min_value=1)


@login_required
@permission_required("pos.view_reports", raise_exception=True)
def reconciliation(request):
    upload = StatementForm()
    if request.method == "POST":
        upload = StatementForm(request.POST, request.FILES)
        if upload.is_valid():
            content = upload.cleaned_data["file"].read(MOST_BYTES + 1)
            if len(content) > MOST_BYTES:
                upload.add_error("file", gettext("The file is larger than 5 MB."))
            else:
                try:
                    done = import_statement(content=content, user=request.user)
                except DomainError as error:
                    upload.add_error("file", error.message)
                else:
                    messages.success(
                        request,
                        gettext("%(rows)s rows read, %(new)s new.")
                        % {"rows": done["rows"], "new": done["new"]},
                    )
                    return redirect(request.get_full_path())
    period = PeriodForm(request.GET, user=request.user)
    shift, day = None, timezone.localdate()
    if not period.is_valid():  # a store one does not work in: nothing of it is read
        return render(
            request,
            "pos/reports/mobile_money.html",
            {"upload": upload, "period": period, "day": day, "groups": []},
            status=400,
        )
    stores = period.cleaned_data["stores"]
    if period.cleaned_data["shift"]:
        shift = (
            scoping.for_user(Shift.objects.all(), request.user)
            .select_related("register", "cashier")
            .filter(pk=period.cleaned_data["shift"])
            .first()
        )
        if shift is None:  # none, or another store's: the same answer
            period.add_error("shift", gettext("No shift of your stores has this number."))
            context = {"upload": upload, "period": period, "day": day, "groups": []}
            return render(request, "pos/reports/mobile_money.html", context, status=404)
        stores = period.all_stores  # the shift's store is one of the user's
    day = period.cleaned_data["day"] or day
    result = reconcile_shift(shift) if shift else reconcile_day(day, stores=stores)
    totals = result.totals()
    groups = [
        (kind, KIND_NAMES[kind], result.of(kind), totals[kind])
        for kind in statement.KINDS
        if result.of(kind) and (stores is None or kind != statement.STATEMENT_ONLY)
    ]
    return render(
        request,
        "pos/reports/mobile_money.html",
        {
            "upload": upload,
            "period": period,
            "shift": shift,
            "day": day,
            "groups": groups,
            "previous_day": day - datetime.timedelta(days=1),
            "unnamed_hidden": stores is not None,
        },
    )
