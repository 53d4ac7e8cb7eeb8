"""What the forum does with its own events once they are committed: the notification emails.

A post that becomes public (posted approved, approved by a moderator, shown again) tells
the members it mentions and, for a reply, the topic's subscribers; an edit of a public post
tells only the members it newly mentions. ``notifications.post_notify`` reads the post as it
is now (a post hidden again before this runs tells nobody) and keeps one email per member
and post, whatever the relay replays.
"""

from __future__ import annotations

from apps.events.envelope import StoredEvent
from apps.events.registry import handles

from . import events, notifications

REPLY_PUBLISHED = tuple(
    e.event_type for e in (events.ReplyPosted, events.ReplyApproved, events.ReplyUnhidden)
)
TOPIC_PUBLISHED = tuple(
    e.event_type for e in (events.TopicStarted, events.TopicApproved, events.TopicUnhidden)
)
REPLY_EDITED = events.ReplyEdited.event_type
TOPIC_EDITED = events.TopicEdited.event_type


@handles(
    *REPLY_PUBLISHED,
    *TOPIC_PUBLISHED,
    REPLY_EDITED,
    TOPIC_EDITED,
    name="forum.notifications",
    module="forum",
)
def send_notifications(event: StoredEvent) -> None:
    payload = event.event
    if event.event_type in REPLY_PUBLISHED or event.event_type == REPLY_EDITED:
        notifications.post_notify(
            topic_id=payload.topic_id,
            reply_id=payload.reply_id,
            subscribers=event.event_type in REPLY_PUBLISHED,
        )
    elif event.event_type in TOPIC_PUBLISHED or "body" in payload.changed:
        # A topic's own post: its mentions (a title or tags edit mentions nobody new).
        notifications.post_notify(topic_id=payload.topic_id, subscribers=False)
