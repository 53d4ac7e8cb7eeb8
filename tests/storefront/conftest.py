from tests.pages.support import acme_site, globex_site  # noqa: F401
