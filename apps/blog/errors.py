from django.utils.translation import gettext_lazy

from apps.content.errors import NodeNotFound


class PostNotFound(NodeNotFound):
    code = "post_not_found"
    title = gettext_lazy("No such post")
