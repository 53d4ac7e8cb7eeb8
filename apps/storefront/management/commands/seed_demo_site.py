import time

from django.core.management.base import BaseCommand, CommandError
from django_tenants.utils import schema_context

from apps.storefront.demo import seed_site
from apps.tenancy.selectors import tenant_get


class Command(BaseCommand):
    help = (
        "Give a tenant demo pages, menus and posts with images, and acme and globex a demo shop "
        "(safe to run again)."
    )

    def add_arguments(self, parser):
        parser.add_argument("slug", help="the tenant's slug")

    def handle(self, *args, **options):
        tenant = tenant_get(slug=options["slug"])
        if tenant is None:
            raise CommandError(f"no tenant '{options['slug']}'")
        missing = {"en", "de"} - set(tenant.locales)
        if missing:
            raise CommandError(f"enable the locales {sorted(missing)} for {tenant.slug} first")
        started = time.monotonic()
        with schema_context(tenant.schema_name):
            report = seed_site(slug=tenant.slug, name=tenant.name)
        self.stdout.write(
            f"  {tenant.slug}: demo site {report.line()} ({time.monotonic() - started:.2f} s)"
        )
