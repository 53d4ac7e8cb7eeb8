"""The tenant's server-rendered public site, read from index and the modules' selectors.

Its place among the layers and rooms: docs/architecture.md.
"""
