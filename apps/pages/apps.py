from django.apps import AppConfig
from django.utils.translation import gettext_lazy


class PagesConfig(AppConfig):
    name = "apps.pages"
    label = "pages"
    verbose_name = gettext_lazy("Pages")
    default_auto_field = "django.db.models.BigAutoField"
