"""The report HTML parsed for WeasyPrint with its tokenizer's patterns made once.

WeasyPrint (70) parses HTML with tinyhtml5 (2.1), whose input stream finds runs of text with a
regular expression per set of stop characters, kept in ``characters_until_regex``. Its cache
misses every time (the pattern is stored under the key the pattern itself: ``characters`` is
rebound before the key is made), so every run of text builds its pattern's source again and
looks it up in ``re``'s own cache: about half of parsing the report. Here the cache makes
each pattern on its first lookup, under the right key; the parsed tree is the same.
"""

from __future__ import annotations

import re
from typing import Any


class _Patterns(dict[tuple[Any, bool], re.Pattern[str]]):
    """tinyhtml5's patterns by (stop characters, opposite), each made as tinyhtml5 makes it."""

    def __missing__(self, key: tuple[Any, bool]) -> re.Pattern[str]:
        characters, opposite = key
        source = "".join([f"\\x{ord(character):02x}" for character in characters])
        if not opposite:
            source = f"^{source}"
        pattern = self[key] = re.compile(f"[{source}]+")
        return pattern


def keep_tokenizer_patterns(inputstream: Any) -> None:
    """Make tinyhtml5's input stream (module `inputstream`) find its text patterns in a cache
    that hits; once per process (nothing if the module has no such cache)."""
    found = getattr(inputstream, "characters_until_regex", None)
    if isinstance(found, dict) and not isinstance(found, _Patterns):
        inputstream.characters_until_regex = _Patterns()
