"""Pages: a kind of content node arranged in a tree, with layouts and menus.

Its place among the layers and rooms: docs/architecture.md.
"""
