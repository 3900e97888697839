"""Initialise the fiscal device with RRA (selectInitInfo), sync the code tables and register the
products: `manage.py fiscal_init --tin 100600570 --serial VSDC-0001 [--branch 00]`."""

from django.core.management.base import BaseCommand, CommandError

from fiscal import device as devices
from fiscal.client import VsdcError
from fiscal.secrets import SecretKeyMissing


class Command(BaseCommand):
    help = "Initialise the fiscal device (VSDC), sync RRA's code tables and register products."

    def add_arguments(self, parser):
        parser.add_argument("--tin", required=True, help="the shop's TIN (9 digits)")
        parser.add_argument("--serial", required=True, help="the device serial number (dvcSrlNo)")
        parser.add_argument("--branch", default="00", help="the branch id (bhfId), 00 for HQ")
        parser.add_argument("--skip-items", action="store_true", help="do not register products")

    def handle(self, *args, tin, serial, branch, skip_items, **options):
        try:
            device = devices.initialise_device(tin=tin, branch_id=branch, serial_number=serial)
            self.stdout.write(
                f"Device {device.sdc_id} initialised: MRC {device.mrc}, "
                f"last invoice number {device.last_invoice_number}."
            )
            codes = devices.sync_codes(device)
            self.stdout.write(f"{codes} codes synced.")
            if not skip_items:
                result = devices.register_due_items()
                self.stdout.write(
                    f"{result['registered']} item(s) registered, {result['refused']} refused."
                )
        except (VsdcError, SecretKeyMissing) as error:
            raise CommandError(str(error)) from error
