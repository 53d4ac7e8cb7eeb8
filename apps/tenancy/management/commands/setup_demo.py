from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand
from django_tenants.utils import schema_context

from apps.tenancy.models import Tenant
from apps.tenancy.services import tenant_create, tenant_groups_sync

DEMO_TENANTS = [
    ("acme", "Acme Outfitters", "admin@acme.test", "acme-demo-pass"),
    ("globex", "Globex Journal", "admin@globex.test", "globex-demo-pass"),
]
OPERATOR = ("operator", "operator@platform.test", "operator-demo-pass")


class Command(BaseCommand):
    help = "Create the demo tenants and the platform operator (safe to run again)."

    def handle(self, *args, **options):
        port = options.get("port") or "8000"
        base = settings.TENANT_BASE_DOMAIN
        user_model = get_user_model()
        username, email, password = OPERATOR
        if not user_model.objects.filter(username=username).exists():
            user_model.objects.create_superuser(username=username, email=email, password=password)
        for slug, name, admin_email, admin_password in DEMO_TENANTS:
            existing = Tenant.objects.filter(slug=slug).first()
            if existing:
                with schema_context(existing.schema_name):
                    tenant_groups_sync()
                self.stdout.write(f"  {slug}: exists")
                continue
            result = tenant_create(
                slug=slug, name=name, admin_email=admin_email, admin_password=admin_password
            )
            self.stdout.write(f"  {slug}: created in {result.seconds:.2f} s")
        self.stdout.write(self.style.SUCCESS("Demo ready:"))
        self.stdout.write(f"  platform  http://{base}:{port}/admin/   {username} / {password}")
        for slug, _name, admin_email, admin_password in DEMO_TENANTS:
            self.stdout.write(
                f"  {slug:<9} http://{slug}.{base}:{port}/   admin: http://{slug}.{base}:{port}/admin/"
                f"   {admin_email} / {admin_password}"
            )

    def add_arguments(self, parser):
        parser.add_argument("--port")
