"""The event backbone: typed events, the transactional outbox and its relay.

Its place among the layers and rooms: docs/architecture.md.
"""
