from django.apps import AppConfig
from django.utils.translation import gettext_lazy


class BlogConfig(AppConfig):
    name = "apps.blog"
    label = "blog"
    verbose_name = gettext_lazy("Blog")

    def ready(self) -> None:
        from apps.core.modules import Module, register_module

        register_module(
            Module(
                "blog",
                gettext_lazy("Blog"),
                switch="blog",
                paths=("/blog/", "/api/v1/posts/", "/admin/blog/"),
            ),
            switch_label=gettext_lazy("Blog"),
        )
