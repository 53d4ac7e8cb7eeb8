from django.apps import AppConfig
from django.utils.translation import gettext_lazy


class TenancyConfig(AppConfig):
    name = "apps.tenancy"
    label = "tenancy"
    verbose_name = gettext_lazy("Tenancy")
