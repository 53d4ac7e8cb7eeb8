import time

from django.core.management.base import BaseCommand, CommandError
from django_tenants.utils import schema_context

from apps.storefront.demo import seed_site
from apps.storefront.demo_forum import moderator_logins
from apps.storefront.demo_orders import customer_logins
from apps.tenancy.selectors import tenant_get


class Command(BaseCommand):
    help = (
        "Give a tenant demo pages, menus and posts with images, and acme and globex a demo shop "
        "with customers and orders and a demo forum (safe to run again)."
    )

    def add_arguments(self, parser):
        parser.add_argument("slug", help="the tenant's slug")
        parser.add_argument(
            "--logins",
            action="store_true",
            help="only print the demo customers' and moderator's logins",
        )

    def handle(self, *args, **options):
        tenant = tenant_get(slug=options["slug"])
        if tenant is None:
            raise CommandError(f"no tenant '{options['slug']}'")
        if options["logins"]:
            for email, password in customer_logins(tenant.slug):
                self.stdout.write(f"{'':12}customer: {email} / {password}")
            for email, password in moderator_logins(tenant.slug):
                self.stdout.write(f"{'':12}forum moderator (admin): {email} / {password}")
            return
        missing = {"en", "de"} - set(tenant.locales)
        if missing:
            raise CommandError(f"enable the locales {sorted(missing)} for {tenant.slug} first")
        started = time.monotonic()
        with schema_context(tenant.schema_name):
            report = seed_site(slug=tenant.slug, name=tenant.name)
        self.stdout.write(
            f"  {tenant.slug}: demo site {report.line()} ({time.monotonic() - started:.2f} s)"
        )
