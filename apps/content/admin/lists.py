"""Cells of the admin's change lists that keep the columns narrow: short dates, cut text."""

from __future__ import annotations

from datetime import datetime

from django.utils import timezone
from django.utils.formats import date_format
from django.utils.html import format_html
from django.utils.text import Truncator


def short_date(moment: datetime | None):
    """A date in few characters, the full date and time when pointed at."""
    if moment is None:
        return "-"
    when = timezone.localtime(moment)
    return format_html(
        '<time class="nowrap" datetime="{}" title="{}">{}</time>',
        when.isoformat(),
        date_format(when, "DATETIME_FORMAT"),
        date_format(when, "SHORT_DATE_FORMAT"),
    )


def truncated(text: str, chars: int):
    """``text`` cut to ``chars`` characters, whole when pointed at."""
    if len(text) <= chars:
        return text
    return format_html('<span title="{}">{}</span>', text, Truncator(text).chars(chars))
