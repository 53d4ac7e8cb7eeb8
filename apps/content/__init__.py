"""The content domain: nodes, translations, revisions, categories, tags and media.

Its place among the layers and rooms: docs/architecture.md.
"""
