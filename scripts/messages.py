"""The project's message catalogues (``locale/<lang>/LC_MESSAGES/django.po``): update and check.

    python scripts/messages.py update    extract the interface strings into every catalogue
    python scripts/messages.py check     fail when a catalogue does not compile, lacks a string,
                                         keeps one that is gone, or has an empty or fuzzy
                                         translation

``check`` extracts into a temporary folder, so it never touches the catalogues; the tests
run the same check (tests/storefront/test_i18n.py). Compiling (``.mo``) is the
Makefile's job (``manage.py compilemessages``).
"""

from __future__ import annotations

import ast
import os
import re
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LOCALE_DIR = ROOT / "locale"
# The interface languages that have a catalogue (English is the source language).
LANGUAGES = ("de",)
# Only the project's own code and templates: not the virtualenv, data, tests or tools.
IGNORED = (".venv", ".data", "tests", "bench", "scripts", "staticfiles", "media", "node_modules")
# Where the interface strings live (what ``check`` copies before extracting).
SOURCES = ("apps", "config", "templates")


@dataclass(frozen=True)
class Entry:
    context: str | None
    msgid: str
    plural: str | None
    translations: tuple[str, ...]
    fuzzy: bool

    @property
    def key(self) -> tuple[str | None, str]:
        return (self.context, self.msgid)


_LINE = re.compile(r'^(msgctxt|msgid|msgid_plural|msgstr(?:\[\d+\])?) (".*")$')


def read_catalogue(path: Path) -> list[Entry]:
    """The entries of a ``.po`` file (the header and obsolete ``#~`` entries left out).

    Entries are blocks separated by blank lines, as gettext's tools write them.
    """
    entries: list[Entry] = []
    for block in re.split(r"\n\s*\n", path.read_text(encoding="utf-8")):
        fields: dict[str, str] = {}
        fuzzy, key = False, None
        for line in block.splitlines():
            line = line.strip()
            if line.startswith("#,"):
                fuzzy = fuzzy or "fuzzy" in line
            elif line.startswith("#"):
                continue
            elif match := _LINE.match(line):
                key = match.group(1)
                fields[key] = ast.literal_eval(match.group(2))
            elif line.startswith('"') and key is not None:
                fields[key] += ast.literal_eval(line)
        if fields.get("msgid"):
            entries.append(
                Entry(
                    context=fields.get("msgctxt"),
                    msgid=fields["msgid"],
                    plural=fields.get("msgid_plural"),
                    translations=tuple(
                        value for name, value in sorted(fields.items()) if name.startswith("msgstr")
                    ),
                    fuzzy=fuzzy,
                )
            )
    return entries


def _setup_django() -> None:
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.base")
    import django

    django.setup()


def extract(project: Path, language: str) -> Path:
    """Run ``makemessages`` for ``language`` over ``project``; its catalogue is in ``project/locale``."""
    from django.core.management import call_command
    from django.test.utils import override_settings

    (project / "locale").mkdir(exist_ok=True)
    previous = Path.cwd()
    os.chdir(project)
    try:
        with override_settings(LOCALE_PATHS=[project / "locale"]):
            call_command(
                "makemessages",
                locale=[language],
                ignore_patterns=list(IGNORED),
                add_location="file",
                verbosity=0,
            )
    finally:
        os.chdir(previous)
    return project / "locale" / language / "LC_MESSAGES" / "django.po"


def _copy_sources(target: Path) -> Path:
    """The project's translatable sources, copied, so that extracting never touches ours."""
    skip = shutil.ignore_patterns(*IGNORED, "locale", "__pycache__", "*.pyc")
    for name in SOURCES:
        source = ROOT / name
        if source.is_dir():
            shutil.copytree(source, target / name, ignore=skip)
    return target


def update() -> None:
    for language in LANGUAGES:
        path = extract(ROOT, language)
        print(f"updated {path.relative_to(ROOT)}")


def problems(language: str) -> list[str]:
    """What is wrong with the catalogue of ``language``: missing, stale, untranslated, fuzzy."""
    committed_path = LOCALE_DIR / language / "LC_MESSAGES" / "django.po"
    if not committed_path.exists():
        return [f"{committed_path.relative_to(ROOT)} does not exist"]
    compiled = subprocess.run(
        ["msgfmt", "--check", "--output-file", os.devnull, str(committed_path)],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    if compiled.returncode:
        return [f"msgfmt refuses it: {line}" for line in compiled.stderr.splitlines()]
    committed = read_catalogue(committed_path)
    with tempfile.TemporaryDirectory() as folder:
        fresh = read_catalogue(extract(_copy_sources(Path(folder)), language))
    have = {entry.key for entry in committed}
    want = {entry.key for entry in fresh}
    found = [
        f"missing (run `make messages`): {msgid!r}" for _, msgid in sorted(want - have, key=str)
    ]
    found += [f"no longer used: {msgid!r}" for _, msgid in sorted(have - want, key=str)]
    for entry in committed:
        if entry.fuzzy:
            found.append(f"fuzzy: {entry.msgid!r}")
        if not entry.translations or not all(entry.translations):
            found.append(f"untranslated: {entry.msgid!r}")
    return found


def check() -> int:
    found = [f"{language}: {problem}" for language in LANGUAGES for problem in problems(language)]
    for line in found:
        print(line, file=sys.stderr)
    if not found:
        print("message catalogues are complete and current")
    return 1 if found else 0


if __name__ == "__main__":
    _setup_django()
    command = sys.argv[1] if len(sys.argv) > 1 else ""
    if command == "update":
        update()
    elif command == "check":
        sys.exit(check())
    else:
        sys.exit(__doc__)
