"""Failed jobs in the admin: each with its error and attempts, and a Retry action."""

from django.contrib import admin, messages
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext
from django_tasks.base import TaskResultStatus

from jobs.models import FailedJob
from jobs.records import last_line
from jobs.worker import retry_now


@admin.register(FailedJob)
class FailedJobAdmin(admin.ModelAdmin):
    """Jobs whose attempts are used up (jobs.worker). Read only; Retry queues one again."""

    list_display = ["task_path", "finished_at", "attempts", "error"]
    list_filter = ["task_path"]
    search_fields = ["task_path", "traceback"]
    ordering = ["-finished_at"]
    actions = ["retry"]
    fields = ["task_path", "args_kwargs", "enqueued_at", "finished_at", "attempts", "details"]
    readonly_fields = fields

    def get_queryset(self, request):
        return super().get_queryset(request).filter(status=TaskResultStatus.FAILED)

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description=_("attempts"))
    def attempts(self, obj):
        return len(obj.worker_ids)

    @admin.display(description=_("error"))
    def error(self, obj):
        return last_line(obj.traceback, obj.exception_class_path)

    @admin.display(description=_("traceback"))
    def details(self, obj):
        return format_html("<pre>{}</pre>", obj.traceback)

    @admin.action(description=_("Retry the selected jobs"), permissions=["change"])
    def retry(self, request, queryset):
        retried = sum(retry_now(pk) for pk in queryset.values_list("pk", flat=True))
        self.message_user(
            request,
            ngettext("%(count)d job queued again.", "%(count)d jobs queued again.", retried)
            % {"count": retried},
            messages.SUCCESS,
        )
