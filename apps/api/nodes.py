"""/api/v1/nodes/: content nodes of every kind; kinds a wrapper module owns are written at its endpoint."""

from apps.blog.services import KIND as POST_KIND
from apps.content import api as content_api
from apps.pages.models import PAGE_KIND


@content_api.node_views(
    "nodes",
    create_input=content_api.NodeCreateIn,
    update_input=content_api.NodeUpdateIn,
    output=content_api.NodeOut,
)
class NodeViewSet(content_api.NodeViewSet):
    """Content nodes of every kind; posts and pages are created, changed and deleted at
    /api/v1/posts/ and /api/v1/pages/, where the blog's and the pages' rules apply."""

    delegated_kinds = {POST_KIND: "/api/v1/posts/", PAGE_KIND: "/api/v1/pages/"}
