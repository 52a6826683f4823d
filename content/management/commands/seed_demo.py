"""Demo data for `make run`: idempotent, embedded mode only."""

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from accounts.models import User
from accounts.services import ensure_user_rows

DEMO_ADMIN_EMAIL = "admin@csn.local"
DEMO_PASSWORD = "csn-demo-password"


class Command(BaseCommand):
    help = "Load demo data (idempotent) and print the demo accounts."

    def handle(self, *args, **options):
        if settings.PRODUCTION:
            raise CommandError("seed_demo refuses to run with CSN_PRODUCTION=1")
        admin = User.objects.filter(email=DEMO_ADMIN_EMAIL).first()
        if admin is None:
            admin = User.objects.create_superuser(email=DEMO_ADMIN_EMAIL, password=DEMO_PASSWORD, display_name="Admin")
        ensure_user_rows(user=admin)
        self.stdout.write(f"Demo admin: {DEMO_ADMIN_EMAIL} / {DEMO_PASSWORD}  (http://127.0.0.1:8000/admin/)")
