"""The OpenAPI schema in docs/openapi.yaml is the one the code generates: integrators (and the
generated client) read the committed file, so a change of the API must change it too."""

from __future__ import annotations

import difflib
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command

COMMITTED = Path(settings.BASE_DIR) / "docs" / "openapi.yaml"
SHOWN_DIFF_LINES = 80


def test_the_committed_schema_is_the_generated_one(tmp_path):
    generated = tmp_path / "openapi.yaml"
    call_command("spectacular", "--file", str(generated), "--validate", "--fail-on-warn")
    expected = generated.read_text().splitlines(keepends=True)
    committed = COMMITTED.read_text().splitlines(keepends=True) if COMMITTED.exists() else []
    if committed != expected:
        diff = list(
            difflib.unified_diff(committed, expected, "docs/openapi.yaml", "generated", n=1)
        )
        pytest.fail(
            "docs/openapi.yaml differs from the schema the code generates: run `make schema` "
            f"and commit the file.\n{''.join(diff[:SHOWN_DIFF_LINES])}",
            pytrace=False,
        )
