"""The read side: projections fed only by events, listings and full-text search.

Its place among the layers and rooms: docs/architecture.md.
"""
