"""The blog's tables: none of its own. ``Post`` is content's ``Node`` seen as a post (a proxy
declared with the kinds in ``apps.content.kinds``), for the "Posts" admin and its permissions."""

from apps.content.kinds import Post

__all__ = ["Post"]
