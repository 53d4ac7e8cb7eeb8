"""Request body parsers of the API: bad bodies are a 400 or a 413, never a 500.

Python's ``json`` recurses once per nesting level, so a body of a thousand
brackets (2 kB) raises ``RecursionError``, which DRF's parser does not catch.
Documents here are never nested that deep: the parser refuses anything past
``MAX_DEPTH`` before decoding it.
"""

from __future__ import annotations

import json

from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser

MAX_DEPTH = 64


def nesting_depth(text: str) -> int:
    """How deep arrays and objects nest in JSON ``text`` (brackets inside strings aside)."""
    depth = deepest = 0
    in_string = escaped = False
    for char in text:
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif char in "]}":
            depth -= 1
    return deepest


class BoundedJSONParser(JSONParser):
    def parse(self, stream, media_type=None, parser_context=None):
        encoding = (parser_context or {}).get("encoding", "utf-8")
        raw = stream.read() if stream is not None else b""
        try:
            text = raw.decode(encoding)
        except (UnicodeDecodeError, LookupError) as error:
            raise ParseError(f"The body is not valid {encoding} text.") from error
        if nesting_depth(text) > MAX_DEPTH:
            raise ParseError(f"JSON nested deeper than {MAX_DEPTH} levels is not accepted.")
        try:
            return json.loads(text, parse_constant=_refuse_constant)
        except RecursionError as error:  # a depth the scan could not see; never a 500
            raise ParseError("JSON nested too deep.") from error
        except ValueError as error:
            raise ParseError(f"JSON parse error - {error}") from error


def _refuse_constant(name: str):
    raise ValueError(f"{name} is not a JSON number")
