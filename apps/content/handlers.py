"""What content does with its own events once they are committed: image renditions.

Resizing an upload is slow, so the upload request leaves it to the outbox:
the relay runs this after the upload commits, and a failure is retried
without the uploader waiting or losing the upload.
"""

from __future__ import annotations

from apps.events.envelope import StoredEvent
from apps.events.registry import handles

from . import events, services


@handles(events.MediaUploaded.event_type, name="content.renditions")
def make_renditions(event: StoredEvent) -> None:
    """The renditions of the uploaded image (none twice: the service keeps what exists)."""
    services.media_renditions_make(media_id=event.aggregate_id)
