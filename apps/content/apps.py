from django.apps import AppConfig
from django.utils.translation import gettext_lazy


class ContentConfig(AppConfig):
    name = "apps.content"
    label = "content"
    verbose_name = gettext_lazy("Content")
