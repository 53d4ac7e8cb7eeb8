"""The forum wrapper module (not built yet).

Its place among the layers and rooms: docs/architecture.md.
"""
