from django.apps import AppConfig
from django.utils.translation import gettext_lazy


class BlogConfig(AppConfig):
    name = "apps.blog"
    label = "blog"
    verbose_name = gettext_lazy("Blog")

    def ready(self) -> None:
        from apps.core.modules import register_switchable

        register_switchable(
            "blog", self.verbose_name, paths=("/blog/", "/api/v1/posts/", "/admin/blog/")
        )
