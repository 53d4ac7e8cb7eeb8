"""The forum: categories, topics and replies of each tenant's community, with their moderation.

A wrapper on ``content`` like blog and pages: bodies are rendered and sanitized by
content's renderer and topics carry content's tags, while the forum's own state (review,
open/closed, pinned, locked, solved) lives in its own tables. Every write goes through
``services``, which publishes a ``forum.*`` event in the same transaction; counters and
search are projections in ``apps.index``, fed by those events, never counted per request.
It never imports blog, pages or commerce.
"""
