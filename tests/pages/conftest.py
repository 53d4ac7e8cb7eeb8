from tests.index.support import committed_content  # noqa: F401
from tests.pages.support import acme_site, globex_site  # noqa: F401
