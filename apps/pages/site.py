"""The site snapshot: menus with resolved links, the home page and the latest posts, cached.

Every storefront page renders its header and footer from it, and the home page
its default listing, so a warm request spends no query on them. It is cached
in Redis under a generation that every change bumps: the pages services bump
it in their transaction (at once and again on commit), the pages handlers when
content changes. With Redis away it is built per request (a bounded number of
queries).
"""

from __future__ import annotations

from apps.core.generations import Generations

SITE_TTL_SECONDS = 600

_site = Generations("pages:site", SITE_TTL_SECONDS)

generation = _site.generation
cached = _site.cached
invalidate = _site.invalidate
