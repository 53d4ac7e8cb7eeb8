from django.core.management.base import BaseCommand, CommandError

from apps.core.errors import PlatformError
from apps.tenancy.services import tenant_create


class Command(BaseCommand):
    help = "Create a tenant: schema, tables, first admin user and default groups."

    def add_arguments(self, parser):
        parser.add_argument("--slug", required=True, help="a-z, 0-9 and '-', up to 63 characters")
        parser.add_argument("--name", required=True)
        parser.add_argument("--admin-email", required=True)
        parser.add_argument(
            "--admin-password",
            help="when omitted, a one-time link where the admin sets one is printed",
        )
        parser.add_argument("--domain", help="an optional custom domain, e.g. shop.example.com")
        parser.add_argument("--locale", help="default locale (settings.LANGUAGES)")

    def handle(self, *args, **options):
        self.stdout.write(f"Creating tenant {options['slug']} ...")
        try:
            result = tenant_create(
                slug=options["slug"],
                name=options["name"],
                admin_email=options["admin_email"],
                admin_password=options.get("admin_password"),
                domain=options.get("domain"),
                default_locale=options.get("locale"),
                verbosity=max(0, options["verbosity"] - 1),
            )
        except PlatformError as error:
            raise CommandError(f"{error.title}: {error.detail}") from None
        tenant = result.tenant
        self.stdout.write(
            self.style.SUCCESS(
                f"Created tenant {tenant.slug} (schema {tenant.schema_name}) by {result.path} "
                f"in {result.seconds:.2f} s"
            )
        )
        self.stdout.write(f"  admin:    {result.admin_email}")
        if result.admin_setup_url:
            self.stdout.write(f"  set a password at (one time): {result.admin_setup_url}")
        else:
            self.stdout.write(f"  password: {result.admin_password}")
