from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class FiscalConfig(AppConfig):
    name = "fiscal"
    verbose_name = _("Fiscal receipts (RRA EBM)")

    def ready(self):
        # pos never imports fiscal: fiscal plugs into pos's hooks and into monitoring.
        from fiscal import codes, messages, monitoring, outbox, proformas, receipts, training
        from pos import hooks, scoping

        hooks.register(hooks.sale_recorded, outbox.enqueue_sale)
        hooks.register(hooks.refund_recorded, outbox.enqueue_refund)
        hooks.register(hooks.sale_voided, outbox.enqueue_void)
        hooks.register(hooks.stock_moved, outbox.enqueue_stock)
        hooks.register(hooks.receipt_blocks, receipts.receipt_block)
        hooks.register(hooks.refund_reason_sources, codes.refund_reason_choices)
        hooks.register(hooks.report_sections, receipts.z_report_section)
        hooks.register(hooks.till_actions, proformas.till_actions)
        hooks.register(hooks.message_attachments, messages.attachments)
        hooks.register(hooks.document_actions, receipts.document_actions)
        hooks.register(hooks.till_modes, training.till_mode)
        # A training receipt is its till's store's (staff per store).
        scoping.STORE_PATHS["fiscal.trainingreceipt"] = "register__store"
        monitoring.register()
