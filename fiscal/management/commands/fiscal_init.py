"""Initialise the fiscal device with RRA (selectInitInfo), sync the code tables and register the
products: `manage.py fiscal_init --tin 100600570 --serial VSDC-0001 [--branch 00]`.

With FISCAL_PROFILE=osdc, whose initialisation route the POS does not know (docs/fiscal.md),
the device is recorded from what RRA issued for it instead:
`manage.py fiscal_init --tin ... --serial ... --sdc-id SDC... --mrc ... --cmc-key ...
[--last-invoice N]`; the code
tables and items are synced only where the profile knows their routes."""

from django.core.management.base import BaseCommand, CommandError

from fiscal import device as devices
from fiscal.client import CODES, VsdcError
from fiscal.secrets import SecretKeyMissing


class Command(BaseCommand):
    help = "Initialise the fiscal device (VSDC), sync RRA's code tables and register products."

    def add_arguments(self, parser):
        parser.add_argument("--tin", required=True, help="the shop's TIN (9 digits)")
        parser.add_argument("--serial", required=True, help="the device serial number (dvcSrlNo)")
        parser.add_argument("--branch", default="00", help="the branch id (bhfId), 00 for HQ")
        parser.add_argument("--skip-items", action="store_true", help="do not register products")
        parser.add_argument("--sdc-id", default="", help="OSDC: the SDC ID RRA issued")
        parser.add_argument("--mrc", default="", help="OSDC: the MRC RRA issued")
        parser.add_argument("--cmc-key", default="", help="OSDC: the cmcKey RRA issued")
        parser.add_argument(
            "--last-invoice", type=int, default=0, help="OSDC: the last invoice number RRA holds"
        )

    def handle(
        self, *args, tin, serial, branch, skip_items, sdc_id, mrc, cmc_key, last_invoice, **options
    ):
        try:
            if sdc_id or mrc or cmc_key:
                device = devices.record_device(
                    tin=tin,
                    branch_id=branch,
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
                device = devices.initialise_device(tin=tin, branch_id=branch, serial_number=serial)
                self.stdout.write(
                    f"Device {device.sdc_id} initialised: MRC {device.mrc}, "
                    f"last invoice number {device.last_invoice_number}."
                )
            if devices.knows(CODES):
                self.stdout.write(f"{devices.sync_codes(device)} codes synced.")
            else:
                self.stdout.write("The code tables' route is not known for this profile: skipped.")
            if not skip_items:
                result = devices.register_due_items()
                self.stdout.write(
                    f"{result['registered']} item(s) registered, {result['refused']} refused."
                )
        except (VsdcError, SecretKeyMissing, ValueError) as error:
            raise CommandError(str(error)) from error
