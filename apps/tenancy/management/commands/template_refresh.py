import time

from django.core.management.base import BaseCommand

from apps.tenancy.template import TEMPLATE_SCHEMA, template_refresh


class Command(BaseCommand):
    help = (
        "Bring the template schema new tenants are copied from up to date with the code's "
        "migrations (rebuilt when stale, created when missing; nothing to do when current)."
    )

    def handle(self, *args, **options):
        self.stdout.write(f"Refreshing the tenant template schema {TEMPLATE_SCHEMA} ...")
        started = time.perf_counter()
        outcome = template_refresh(verbosity=max(0, options["verbosity"] - 1))
        seconds = time.perf_counter() - started
        self.stdout.write(
            self.style.SUCCESS(f"Template {TEMPLATE_SCHEMA}: {outcome} in {seconds:.2f} s")
        )
