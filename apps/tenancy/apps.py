from django.apps import AppConfig
from django.utils.translation import gettext_lazy


class TenancyConfig(AppConfig):
    name = "apps.tenancy"
    label = "tenancy"
    verbose_name = gettext_lazy("Tenancy")

    def ready(self) -> None:
        from apps.core.modules import set_manual_modes_source

        from .resolver import module_modes

        set_manual_modes_source(module_modes)
