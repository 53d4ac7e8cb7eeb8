"""Tenants and their domains: the request resolver, its cache and the tenant lifecycle.

Its place among the layers and rooms: docs/architecture.md.
"""
