"""The forum's scheduled work: beat runs ``forum.flush_views`` every minute."""

from __future__ import annotations

from apps.core.jobs import scheduled_job

from .view_counts import flush_views


@scheduled_job("forum.flush_views")
def flush_topic_views() -> int:
    return flush_views()
