"""The REST API (DRF): every API view, serializer and filter, and the one problem+json mapping.

Its place among the layers and rooms: docs/architecture.md.
"""
