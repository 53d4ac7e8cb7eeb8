from django.apps import AppConfig
from django.utils.translation import gettext_lazy


class ForumConfig(AppConfig):
    name = "apps.forum"
    label = "forum"
    verbose_name = gettext_lazy("Forum")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from apps.core.modules import register_switchable

        register_switchable(
            "forum", self.verbose_name, paths=("/forum/", "/api/v1/forum/", "/admin/forum/")
        )
