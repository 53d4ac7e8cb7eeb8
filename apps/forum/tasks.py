"""The forum's scheduled work: beat runs ``forum.flush_views`` every minute."""

from __future__ import annotations

from celery import shared_task

from .view_counts import flush_views


@shared_task(name="forum.flush_views", ignore_result=True)
def flush_topic_views() -> int:
    return flush_views()
