"""The blog: posts, a kind of content node, with the blog's own rules.

Its place among the layers and rooms: docs/architecture.md.
"""
