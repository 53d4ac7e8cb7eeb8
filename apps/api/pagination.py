"""Page-number pagination for every list of the API.

``?page=2&page_size=50`` (20 by default, 100 at most); the answer is
``{"count": ..., "next": url|null, "previous": url|null, "results": [...]}``.
A page past the end is a 404. Chosen over cursor pagination because editors'
integrations want totals and random access, and per-tenant tables are small
enough for ``COUNT(*)``; lists are ordered with a unique tie-breaker, so pages
never overlap or skip rows between requests that change nothing.
"""

from rest_framework.pagination import PageNumberPagination


class PagePagination(PageNumberPagination):
    page_size = 20
    page_size_query_param = "page_size"
    max_page_size = 100
