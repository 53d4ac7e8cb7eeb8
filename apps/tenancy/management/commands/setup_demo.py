from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import BaseCommand
from django_tenants.utils import schema_context

from apps.tenancy.models import Tenant
from apps.tenancy.services import tenant_create, tenant_groups_sync, tenant_update
from apps.tenancy.template import TEMPLATE_SCHEMA, template_refresh

DEMO_TENANTS = [
    ("acme", "Acme Outfitters", "admin@acme.test", "acme-demo-pass"),
    ("globex", "Globex Journal", "admin@globex.test", "globex-demo-pass"),
]
OPERATOR = ("operator", "operator@platform.test", "operator-demo-pass")
DEMO_LOCALES = ["en", "de"]


class Command(BaseCommand):
    help = (
        "Create the demo tenants and the platform operator, and give each tenant demo content "
        "in English and German (safe to run again)."
    )

    def handle(self, *args, **options):
        port = options.get("port") or "8000"
        base = settings.TENANT_BASE_DOMAIN
        user_model = get_user_model()
        username, email, password = OPERATOR
        if not user_model.objects.filter(username=username).exists():
            user_model.objects.create_superuser(username=username, email=email, password=password)
        outcome = template_refresh()
        self.stdout.write(f"  template schema {TEMPLATE_SCHEMA}: {outcome}")
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
            self.stdout.write(f"  {slug}: created by {result.path} in {result.seconds:.2f} s")
        if not options.get("no_content"):
            self._seed_content()
        self.stdout.write(self.style.SUCCESS("Demo ready:"))
        self.stdout.write(f"  platform  http://{base}:{port}/admin/   {username} / {password}")
        for slug, _name, admin_email, admin_password in DEMO_TENANTS:
            self.stdout.write(
                f"  {slug:<9} http://{slug}.{base}:{port}/   admin: http://{slug}.{base}:{port}/admin/"
                f"   {admin_email} / {admin_password}"
            )
            if not options.get("no_content"):
                # The storefront's demo knows its customers: asked for by the command's name.
                call_command("seed_demo_site", slug, "--logins", stdout=self.stdout)

    def _seed_content(self) -> None:
        """Locales en and de, then pages, menus and posts (apps.storefront's seed_demo_site)."""
        for slug, *_rest in DEMO_TENANTS:
            tenant = Tenant.objects.get(slug=slug)
            if not set(DEMO_LOCALES) <= set(tenant.locales):
                tenant_update(
                    slug=slug, enabled_locales=sorted({*tenant.enabled_locales, *DEMO_LOCALES})
                )
            # By name: the kernel does not import the storefront, it asks for its command.
            call_command("seed_demo_site", slug, stdout=self.stdout)

    def add_arguments(self, parser):
        parser.add_argument("--port")
        parser.add_argument(
            "--no-content", action="store_true", help="only tenants and logins, no demo content"
        )
