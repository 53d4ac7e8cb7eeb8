"""The kernel's base: typed errors, problem+json, breakers, error policy, context, health.

Its place among the layers and rooms: docs/architecture.md.
"""
