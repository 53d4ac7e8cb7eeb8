from apps.content.errors import NodeNotFound


class PostNotFound(NodeNotFound):
    code = "post_not_found"
    title = "No such post"
