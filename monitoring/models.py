"""Alert history (monitoring/alerts.py): one row per incident, from firing to resolved."""

from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class AlertIncident(models.Model):
    """A rule's condition for one key (a product, a shift; "" for shop-wide rules) from when it
    started to when it ended. The open row is the "firing" state: at most one per rule and key,
    which the database enforces, so two evaluators can never both announce the same start.
    Events (a shift closed over/short) have no duration: they are created resolved, once per key.
    """

    rule = models.CharField(_("rule"), max_length=40)
    key = models.CharField(_("key"), max_length=64, blank=True)
    is_event = models.BooleanField(_("event"), default=False)
    summary = models.CharField(_("what was seen"), max_length=500)
    fired_at = models.DateTimeField(_("fired at"), default=timezone.now, db_index=True)
    resolved_at = models.DateTimeField(_("resolved at"), null=True, blank=True)
    resolution = models.CharField(_("resolution"), max_length=500, blank=True)

    class Meta:
        ordering = ["-fired_at", "-id"]
        verbose_name = _("alert")
        constraints = [
            models.UniqueConstraint(
                fields=["rule", "key"],
                condition=Q(resolved_at__isnull=True),
                name="one_open_alert_per_rule_key",
            ),
            models.UniqueConstraint(
                fields=["rule", "key"], condition=Q(is_event=True), name="one_alert_per_event"
            ),
        ]

    def __str__(self):
        return f"{self.rule} {self.key}".strip()

    @property
    def firing(self) -> bool:
        return self.resolved_at is None
