"""How wide a rendered admin page lays out in headless Chromium, for the list-width tests.

The page's HTML (from the test client) is written to a file with its stylesheets
pointing at the static files' sources, then Chromium loads it at a given window
width and reports ``document.documentElement.scrollWidth``.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

from django.contrib.staticfiles import finders

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
_STATIC_HREF = re.compile(r'(href|src)="/static/([^"?#]+)[^"]*"')
# The page's width plus what its result list overflows by: the admin's list sits in a box of
# its own (beside the filters), so a table too wide for that box widens nothing else.
_PROBE = (
    "<script>window.addEventListener('load', () => {"
    "let overflow = 0;"
    "const table = document.getElementById('result_list');"
    "const box = document.querySelector('.results');"
    "if (table && box) {"
    "overflow = Math.max(box.scrollWidth - box.clientWidth,"
    "table.getBoundingClientRect().right - box.getBoundingClientRect().right);}"
    "const width = document.documentElement.scrollWidth + Math.max(0, overflow);"
    "document.body.setAttribute('data-scroll-width', Math.ceil(width));});</script>"
)


def _local(match: re.Match) -> str:
    found = finders.find(match.group(2))
    return f'{match.group(1)}="file://{found}"' if found else f'{match.group(1)}=""'


def scroll_width(html: str, tmp_path: Path, *, width: int = 1280) -> int:
    """The page's scroll width in a ``width`` px wide window.

    The page's scripts are left out; the admin's navigation sidebar is shown open,
    as its script shows it until a user closes it.
    """
    page = re.sub(r"<script\b.*?</script>", "", html, flags=re.S)
    page = page.replace('<div class="main" id="main">', '<div class="main shifted" id="main">')
    page = _STATIC_HREF.sub(_local, page).replace("</body>", f"{_PROBE}</body>")
    path = tmp_path / "page.html"
    path.write_text(page, encoding="utf-8")
    result = subprocess.run(
        [
            CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
            f"--window-size={width},900", "--allow-file-access-from-files",
            "--virtual-time-budget=2000", "--dump-dom", path.as_uri(),
        ],
        capture_output=True, text=True, timeout=60, check=True,
    )  # fmt: skip
    found = re.search(r'data-scroll-width="(\d+)"', result.stdout)
    assert found, result.stdout[-2000:] + result.stderr[-2000:]
    return int(found.group(1))
