"""Links editors may put in menus and blocks: site paths, anchors, http(s), mailto and tel."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from django.utils.translation import gettext

LINK_MAX_LENGTH = 500
_SCHEMES = {"http", "https", "mailto", "tel"}
_CONTROL = re.compile(r"[\x00-\x20\x7f]")


def clean_link(value: str) -> str:
    """``value`` trimmed, or ``ValueError`` saying why it is not a safe link.

    Relative links must start with ``/`` (not ``//``, which would leave the site)
    or ``#``; absolute ones must use http, https, mailto or tel. ``javascript:``,
    ``data:`` and anything with control characters or spaces is refused.
    """
    link = (value or "").strip()
    if not link:
        raise ValueError(gettext("must not be empty"))
    if len(link) > LINK_MAX_LENGTH:
        raise ValueError(gettext("at most %(count)s characters") % {"count": LINK_MAX_LENGTH})
    if _CONTROL.search(link) or "\\" in link:
        raise ValueError(gettext("must not contain spaces, control characters or backslashes"))
    if link.startswith("#") or (link.startswith("/") and not link.startswith("//")):
        return link
    scheme = urlsplit(link).scheme.lower()
    if scheme not in _SCHEMES:
        raise ValueError(
            gettext(
                "must be a site path (/about/), an anchor (#top) or an http(s), mailto or tel URL"
            )
        )
    if scheme in {"http", "https"} and not urlsplit(link).netloc:
        raise ValueError(gettext("an http(s) URL needs a host"))
    return link
