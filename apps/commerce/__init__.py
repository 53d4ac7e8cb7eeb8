"""The commerce domain module (not built yet); it never imports content.

Its place among the layers and rooms: docs/architecture.md.
"""
