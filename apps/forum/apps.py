from django.apps import AppConfig
from django.utils.translation import gettext_lazy


class ForumConfig(AppConfig):
    name = "apps.forum"
    label = "forum"
    verbose_name = gettext_lazy("Forum")
    default_auto_field = "django.db.models.BigAutoField"
