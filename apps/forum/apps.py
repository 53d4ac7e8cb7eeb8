from django.apps import AppConfig
from django.utils.translation import gettext_lazy


class ForumConfig(AppConfig):
    name = "apps.forum"
    label = "forum"
    verbose_name = gettext_lazy("Forum")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from apps.core.modules import Module, register_module

        register_module(
            Module(
                "forum",
                gettext_lazy("Forum"),
                switch="forum",
                paths=("/forum/", "/api/v1/forum/", "/admin/forum/"),
            ),
            switch_label=gettext_lazy("Forum"),
        )
