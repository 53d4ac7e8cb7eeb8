"""People: the per-tenant profile of a user (staff now; the shop's and forum's customers later).

A user's login email is private. What the public sees of a person is their
display name, kept here and read by other modules through ``selectors``.
This module knows nothing about content, authors or the storefront.
"""
