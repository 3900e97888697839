"""Initialise a store's fiscal device with RRA (selectInitInfo), sync the code tables and queue
the products for registration with it:
`manage.py fiscal_init --serial VSDC-0001 [--store KCT] [--tin 100600570]` (the first store by
default; the device signs with the store's branch id, bhfId; the TIN is the one typed, else the
store's, else the shop's).

With FISCAL_PROFILE=osdc, whose initialisation route the POS does not know (docs/fiscal.md),
the device is recorded from what RRA issued for it instead:
`manage.py fiscal_init --serial ... [--store ...] --sdc-id SDC... --mrc ... --cmc-key ...
[--last-invoice N]`; the code
tables and items are synced only where the profile knows their routes."""

from django.core.management.base import BaseCommand, CommandError

from fiscal import device as devices
from fiscal import sending
from fiscal.client import CODES, VsdcError
from fiscal.secrets import SecretKeyMissing
from pos.models import Store


class Command(BaseCommand):
    help = "Initialise the fiscal device (VSDC), sync RRA's code tables and register products."

    def add_arguments(self, parser):
        parser.add_argument("--tin", default="", help="the TIN (default: the store's, the shop's)")
        parser.add_argument("--serial", required=True, help="the device serial number (dvcSrlNo)")
        parser.add_argument(
            "--store", default="", help="the store's code (default: the first store)"
        )
        parser.add_argument("--skip-items", action="store_true", help="do not register products")
        parser.add_argument("--sdc-id", default="", help="OSDC: the SDC ID RRA issued")
        parser.add_argument("--mrc", default="", help="OSDC: the MRC RRA issued")
        parser.add_argument("--cmc-key", default="", help="OSDC: the cmcKey RRA issued")
        parser.add_argument(
            "--last-invoice", type=int, default=0, help="OSDC: the last invoice number RRA holds"
        )

    def handle(
        self, *args, tin, serial, store, skip_items, sdc_id, mrc, cmc_key, last_invoice, **options
    ):
        stores = Store.objects.filter(is_active=True).order_by("pk")
        found = stores.filter(code=store).first() if store else stores.first()
        if found is None:
            raise CommandError(f"No active store {store!r}." if store else "No store.")
        try:
            if sdc_id or mrc or cmc_key:
                device = devices.record_device(
                    store=found,
                    tin=tin,
                    serial_number=serial,
                    sdc_id=sdc_id,
                    mrc=mrc,
                    cmc_key=cmc_key,
                    last_invoice_number=last_invoice,
                )
                self.stdout.write(
                    f"Device {device.sdc_id} recorded: MRC {device.mrc}, "
                    f"last invoice number {device.last_invoice_number}."
                )
            else:
                device = devices.initialise_device(store=found, tin=tin, serial_number=serial)
                self.stdout.write(
                    f"Device {device.sdc_id} of {found.name} (branch {found.branch_id}) "
                    f"initialised: MRC {device.mrc}, "
                    f"last invoice number {device.last_invoice_number}."
                )
            if devices.knows(CODES):
                self.stdout.write(f"{devices.sync_codes(device)} codes synced.")
            else:
                self.stdout.write("The code tables' route is not known for this profile: skipped.")
            if not skip_items:
                queued = devices.register_due_items(device)["queued"]
                sent = sending.drain(device)
                self.stdout.write(
                    f"{queued} item(s) queued for registration; "
                    f"{sent['reported']} sent, {sent['stopped']} refused."
                )
        except (VsdcError, SecretKeyMissing, ValueError) as error:
            raise CommandError(str(error)) from error
