from django.core.management.base import BaseCommand, CommandError

from apps.core import modules
from apps.core.errors import PlatformError
from apps.tenancy.selectors import module_states, tenant_get
from apps.tenancy.services import tenant_modules_switch


class Command(BaseCommand):
    help = (
        "Show a tenant's modules, or turn some on and off (--on forum --off shop). A module "
        "that is off answers 404 on its pages, API and admin, and its handlers skip the "
        "tenant's events; every process sees the change within a second. After turning a "
        "module back on, run rebuild_projections --tenant <slug> to catch its read models up."
    )

    def add_arguments(self, parser):
        parser.add_argument("slug")
        names = sorted(modules.switches())
        parser.add_argument("--on", action="append", default=[], choices=names, metavar="MODULE")
        parser.add_argument("--off", action="append", default=[], choices=names, metavar="MODULE")

    def handle(self, *args, **options):
        slug = options["slug"]
        if options["on"] or options["off"]:
            try:
                tenant = tenant_modules_switch(slug=slug, on=options["on"], off=options["off"])
            except PlatformError as error:
                raise CommandError(error.detail) from None
        else:
            tenant = tenant_get(slug=slug)
            if tenant is None:
                raise CommandError(f"no tenant '{slug}'")
        for state in module_states(tenant):
            mark = self.style.SUCCESS("on ") if state.on else self.style.WARNING("off")
            self.stdout.write(f"{mark} {state.name}")
