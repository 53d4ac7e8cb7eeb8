"""Content's bodies are rendered by the kernel's sanitizer (shared with commerce's descriptions)."""

from apps.core.rendering import (
    ALLOWED_ATTRIBUTES,
    ALLOWED_TAGS,
    URL_SCHEMES,
    plain_text,
    render_body,
    render_markdown,
    sanitize_html,
)

__all__ = [
    "ALLOWED_ATTRIBUTES",
    "ALLOWED_TAGS",
    "URL_SCHEMES",
    "plain_text",
    "render_body",
    "render_markdown",
    "sanitize_html",
]
