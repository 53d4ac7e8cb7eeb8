from django.core.management.base import BaseCommand, CommandError

from apps.core.errors import PlatformError
from apps.tenancy.models import TenantStatus
from apps.tenancy.services import tenant_set_status


class Command(BaseCommand):
    help = "Suspend or reactivate a tenant. Every process sees the change within a second."

    def add_arguments(self, parser):
        parser.add_argument("slug")
        parser.add_argument("status", choices=TenantStatus.values)

    def handle(self, *args, **options):
        try:
            tenant = tenant_set_status(slug=options["slug"], status=options["status"])
        except PlatformError as error:
            raise CommandError(error.detail) from None
        self.stdout.write(self.style.SUCCESS(f"{tenant.slug}: {tenant.status}"))
