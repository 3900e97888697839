"""Create the demo shop: users with known passwords, and the catalogue. Idempotent."""

from django.core.management.base import BaseCommand
from django.db import transaction

from accounts import services as account_services
from accounts.models import Role, User

DEMO_USERS = [
    # username, role, first name, last name, password
    ("admin", Role.ADMIN, "Aline", "Uwase", "vevurn-admin-demo"),
    ("manager", Role.MANAGER, "Eric", "Mugisha", "vevurn-manager-demo"),
    ("cashier", Role.CASHIER, "Grace", "Ingabire", "vevurn-cashier-demo"),
]


class Command(BaseCommand):
    help = "Create the demo shop (users, catalogue). Running it again creates nothing twice."

    @transaction.atomic
    def handle(self, *args, **options):
        created_users = 0
        for username, role, first_name, last_name, password in DEMO_USERS:
            user, created = User.objects.get_or_create(
                username=username, defaults={"first_name": first_name, "last_name": last_name}
            )
            if created:
                user.set_password(password)
                user.save(update_fields=["password"])
                account_services.assign_role(user=user, role=role)
                created_users += 1

        self.stdout.write(self.style.SUCCESS(f"Demo users created: {created_users}."))
        self.stdout.write("Demo sign-in (passwords apply unless you changed them):")
        for username, role, _first, _last, password in DEMO_USERS:
            self.stdout.write(f"  {role.label:<8} {username} / {password}")
