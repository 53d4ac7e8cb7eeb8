"""Mark tenants due now for every beat job that reads the due-work index.

The index in ``public`` knows only what writers marked. A schema restored from a dump (or
changed by hand) may hold work it never heard of: marked due now, each job visits the
tenant on its next run and sets the true next time (or drops the mark).
"""

from django.core.management.base import BaseCommand, CommandError
from django.utils.module_loading import autodiscover_modules

from apps.tenancy.models import Tenant
from apps.tenancy.services import due_work_kinds, due_work_mark_now


class Command(BaseCommand):
    help = "Mark tenants (all, or those named) due now for every job of the due-work index."

    def add_arguments(self, parser):
        parser.add_argument("--tenant", action="append", default=[], help="a slug (repeatable)")

    def handle(self, *args, **options):
        autodiscover_modules("tasks")  # the jobs declare their kinds where they are defined
        tenants = Tenant.objects.order_by("slug")
        if options["tenant"]:
            tenants = tenants.filter(slug__in=options["tenant"])
            missing = set(options["tenant"]) - {tenant.slug for tenant in tenants}
            if missing:
                raise CommandError(f"no tenant {', '.join(sorted(missing))}")
        tenants = list(tenants)
        marks = due_work_mark_now(tenants=tenants)
        self.stdout.write(
            self.style.SUCCESS(
                f"{marks} mark(s): {len(tenants)} tenant(s) due now for "
                f"{', '.join(due_work_kinds())}"
            )
        )
