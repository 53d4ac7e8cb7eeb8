from django.apps import AppConfig
from django.utils.translation import gettext_lazy


class PagesConfig(AppConfig):
    name = "apps.pages"
    label = "pages"
    verbose_name = gettext_lazy("Pages")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from apps.core.modules import register_switchable

        register_switchable(
            "pages",
            self.verbose_name,
            paths=("/api/v1/pages/", "/admin/pages/"),
            namespaces=("pages",),
        )
