from tests.index.support import acme_en_de, acme_schema, committed_content  # noqa: F401
