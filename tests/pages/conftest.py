from tests.pages.support import acme_site, globex_site, media_root  # noqa: F401
