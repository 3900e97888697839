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
        hooks.register(hooks.till_mode_keys, training._cache_key)
        # Staff per store (pos.scoping): a device is its store's, and so is what it signs and
        # sends (the outbox: receipts, refunds, voids, stock reports, item registrations); a
        # till's training mode and receipts are the till's store's.
        scoping.STORE_PATHS.update(
            {
                "fiscal.device": "store",
                "fiscal.till": "register__store",
                "fiscal.itemregistration": "device__store",
                "fiscal.outboxitem": "device__store",
                "fiscal.signature": "item__device__store",
                "fiscal.receiptmessage": "item__device__store",
                "fiscal.trainingtill": "register__store",
                "fiscal.trainingreceipt": "register__store",
                "fiscal.trainingline": "receipt__register__store",
                "fiscal.trainingtender": "receipt__register__store",
            }
        )
        scoping.STORE_SCOPES["fiscal.proforma"] = proformas.visible_to
        scoping.MESSAGE_KEYS.append(messages.message_keys)
        monitoring.register()
