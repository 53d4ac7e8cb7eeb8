from django.apps import AppConfig
from django.utils.translation import gettext_lazy


class PagesConfig(AppConfig):
    name = "apps.pages"
    label = "pages"
    verbose_name = gettext_lazy("Pages")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from apps.core.modules import Module, register_module

        register_module(
            Module(
                "pages",
                gettext_lazy("Pages"),
                switch="pages",
                paths=("/api/v1/pages/", "/admin/pages/"),
                namespaces=("pages",),
            ),
            switch_label=gettext_lazy("Pages"),
        )
