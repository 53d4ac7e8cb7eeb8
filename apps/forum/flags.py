"""The forum's feature flag: ``forum_mentions``, the rollout of @mentions.

When the flag is on for the member who posts, the ``@handle`` mentions in their post link
to the members' pages and the mentioned members are emailed; when it is off, ``@handle``
stays text and nobody is emailed for it (a topic's subscribers still are). The storefront
and the API ask here when a member posts (a request is there to answer for) and hand the
answer to the services, which keep it with the post (``Topic.mentions``,
``Reply.mentions``): its edits, its preview and the outbox handler's emails, which have no
request, follow it.

Every tenant gets the flag, off, with its migration (``0003``); its administrators turn it
on in their admin (Feature flags). The demo tenants have it on for everyone.
"""

from __future__ import annotations

from django.http import HttpRequest

from apps.core.flags import flag_is_active

MENTIONS = "forum_mentions"


def mentions_active(request: HttpRequest) -> bool:
    """Whether @mentions count in what ``request``'s member posts now."""
    return flag_is_active(request, MENTIONS)
