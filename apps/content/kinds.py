"""The node kinds that wrapper modules own, named once, and their proxies of ``Node``.

``blog`` and ``pages`` never import each other, yet pages shows posts (menus,
home page, sitemaps) and the API and the admin must know which kinds are
written through which wrapper: they all take the names from here. ``Post`` and
``Page`` are ``Node`` seen as one kind (proxies, no table), labelled with the
wrapper's app so that each wrapper has its own admin entry and permissions;
the wrappers re-export them from their ``models`` without naming content's tables.
"""

from django.utils.translation import gettext_lazy

from .models import Node

POST_KIND = "post"
PAGE_KIND = "page"
# Kinds whose writes go through a wrapper module's services (with its rules), never content's alone.
WRAPPER_KINDS = frozenset({POST_KIND, PAGE_KIND})


class Post(Node):
    class Meta:
        app_label = "blog"
        proxy = True
        verbose_name = gettext_lazy("post")
        verbose_name_plural = gettext_lazy("posts")


class Page(Node):
    class Meta:
        app_label = "pages"
        proxy = True
        verbose_name = gettext_lazy("page")
        verbose_name_plural = gettext_lazy("pages")
