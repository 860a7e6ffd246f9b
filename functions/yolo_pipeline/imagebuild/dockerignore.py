"""Docker's ``.dockerignore`` rules, so the CodeBuild source zip holds exactly what
``docker build`` would send as its context.

Semantics follow Docker's own matcher (moby/patternmatcher and its ``ignorefile`` reader):

- a line whose first character is ``#`` is a comment; lines are trimmed; blank lines skip;
- ``!`` makes a line an exception (re-include); the LAST matching line decides;
- patterns are cleaned like Go's ``filepath.Clean`` and a leading ``/`` is dropped, so
  every pattern is relative to the context root and matched against the whole path;
- ``*`` matches within one path segment, ``?`` one character other than ``/``,
  ``**`` any number of segments (``**/x`` also matches ``x`` at the root), ``[...]`` a
  class and ``\\`` escapes the next character;
- a pattern that matches a directory matches everything below it (so ``!src/`` re-includes
  the files under ``src/`` after a ``*``).

A directory walk may skip an excluded directory unless an exception pattern starts with
that directory's path, which is also what Docker does.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True)
class Pattern:
    text: str  # cleaned, without the leading "!"
    exclusion: bool  # True for a "!" line (an exception that re-includes)
    regex: re.Pattern[str]

    def match(self, path: str) -> bool:
        return self.regex.match(path) is not None


def _clean(pattern: str) -> str:
    """Go's ``filepath.Clean`` for slash paths, then no leading ``/``."""
    cleaned = posixpath.normpath(pattern)
    if cleaned.startswith("//"):
        cleaned = "/" + cleaned.lstrip("/")
    if len(cleaned) > 1 and cleaned.startswith("/"):
        cleaned = cleaned[1:]
    return cleaned


def _compile(pattern: str) -> re.Pattern[str]:
    out = ["^"]
    i, n = 0, len(pattern)
    in_class = False
    while i < n:
        ch = pattern[i]
        if in_class and ch not in "]\\":
            out.append(ch)  # a class body ("a-z", "^ab") is copied as written
        elif ch == "*":
            if i + 1 < n and pattern[i + 1] == "*":
                i += 2
                if i < n and pattern[i] == "/":
                    i += 1  # "**/" is treated as "**"
                # "**" at the end accepts everything; elsewhere any number of segments
                out.append(".*" if i >= n else "(.*/)?")
                continue
            out.append("[^/]*")
        elif ch == "?":
            out.append("[^/]")
        elif ch == "\\":
            if i + 1 < n:
                out.append(re.escape(pattern[i + 1]))
                i += 1
            else:
                out.append(r"\\")
        elif ch in "[]":
            in_class = ch == "["
            out.append(ch)
        else:
            out.append(re.escape(ch))
        i += 1
    out.append("$")
    return re.compile("".join(out))


def parse(text: str) -> list[Pattern]:
    """The patterns of a ``.dockerignore`` file, in order."""
    patterns: list[Pattern] = []
    for number, raw in enumerate(text.splitlines()):
        line = raw.removeprefix("\ufeff") if number == 0 else raw
        if line.startswith("#"):
            continue
        line = line.strip()
        if not line:
            continue
        exclusion = line.startswith("!")
        if exclusion:
            line = line[1:].strip()
        if not line:
            continue
        cleaned = _clean(line)
        patterns.append(Pattern(cleaned, exclusion, _compile(cleaned)))
    return patterns


class Matcher:
    """Answers "is this context path ignored?" the way Docker's matcher does."""

    def __init__(self, patterns: Iterable[Pattern]) -> None:
        self.patterns = list(patterns)

    @classmethod
    def from_text(cls, text: str) -> Matcher:
        return cls(parse(text))

    def ignored(self, path: str) -> bool:
        """``path`` is slash-separated and relative to the context root."""
        path = path.strip("/")
        parents = path.split("/")[:-1]
        parent_paths = ["/".join(parents[: i + 1]) for i in range(len(parents))]
        matched = False
        for pattern in self.patterns:
            # An exception can only flip an excluded path; an exclusion only an included one.
            if pattern.exclusion != matched:
                continue
            hit = pattern.match(path) or any(pattern.match(p) for p in parent_paths)
            if hit:
                matched = not pattern.exclusion
        return matched

    def may_skip_directory(self, path: str) -> bool:
        """An ignored directory whose contents no exception could bring back."""
        if not self.ignored(path):
            return False
        prefix = path.strip("/") + "/"
        return not any(p.exclusion and (p.text + "/").startswith(prefix) for p in self.patterns)
