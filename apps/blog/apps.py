from django.apps import AppConfig
from django.utils.translation import gettext_lazy


class BlogConfig(AppConfig):
    name = "apps.blog"
    label = "blog"
    verbose_name = gettext_lazy("Blog")
