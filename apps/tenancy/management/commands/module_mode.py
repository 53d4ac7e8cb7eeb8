from django.core.management.base import BaseCommand, CommandError

from apps.core import modules
from apps.core.errors import PlatformError
from apps.tenancy.services import module_mode_set


class Command(BaseCommand):
    help = (
        "Show every module's mode, or set one on every tenant: read-only (writes answer 503 "
        "with Retry-After, reads go on), disabled (everything answers 503) or normal. Every "
        "process sees the change within a second."
    )

    def add_arguments(self, parser):
        parser.add_argument("module", nargs="?", choices=sorted(m.name for m in modules.modules()))
        parser.add_argument("mode", nargs="?", choices=modules.Mode.values)
        parser.add_argument("--reason", default="", help="Why (shown in readiness and logs).")

    def handle(self, *args, **options):
        if options["module"] and not options["mode"]:
            raise CommandError("give the mode too: normal, read-only or disabled")
        if options["module"]:
            try:
                module_mode_set(
                    module=options["module"],
                    mode=options["mode"],
                    reason=options["reason"],
                    changed_by="manage.py module_mode",
                )
            except PlatformError as error:
                raise CommandError(error.detail) from None
        manual = modules.manual_modes()
        for module in sorted(modules.modules(), key=lambda m: m.name):
            setting = modules.effective_mode(module.name, manual=manual)
            reason = f"  ({setting.reason})" if setting.reason else ""
            style = (
                self.style.SUCCESS if setting.mode == modules.Mode.NORMAL else self.style.WARNING
            )
            self.stdout.write(f"{module.name:<10} {style(str(setting.mode))}{reason}")
