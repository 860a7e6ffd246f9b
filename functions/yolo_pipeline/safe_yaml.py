"""The one YAML loader for uploaded files (data.yaml, training.yaml).

A user's YAML is hostile until proven otherwise, so, in this order: the size is capped
before decoding; the event stream is scanned (PyYAML's parser is iterative, so this
cannot recurse) and any anchor or alias, or nesting deeper than ``MAX_DEPTH``, stops it
before a single node is composed (an alias bomb or a 5,000-deep list costs one linear
scan); only then is the document composed once and built with the safe constructors.
Every failure, ``RecursionError`` and constructor errors included, becomes a ``Finding``
with a line where one is known. ``load`` never raises.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import yaml

from yolo_pipeline.findings import Finding, error
from yolo_pipeline.text import quote

# libyaml's parser and composer when PyYAML has them (same events and nodes, ~10x faster);
# the depth limit below is checked before composing, so the C composer never recurses deep.
_LOADER: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
MAX_DEPTH = 16  # data.yaml and training.yaml are mappings of scalars and short lists
MAX_EVENTS = 200_000  # scalars, mappings and sequences in one file


@dataclass(frozen=True)
class LoadedYaml:
    data: Any = None  # what yaml.safe_load would give; None when unusable (or empty)
    node: yaml.Node | None = None  # the composed document, for line numbers
    findings: list[Finding] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.findings


def _decode(content: bytes | str, file: str, max_bytes: int) -> tuple[str | None, list[Finding]]:
    size = len(content) if isinstance(content, bytes) else len(content.encode("utf-8", "replace"))
    if size > max_bytes:
        return None, [
            error(
                file,
                f"is {size:,} bytes, larger than {max_bytes // 1024} KiB; "
                f"the limit is {max_bytes:,}",
                hint="keep only settings in it; remove embedded data",
            )
        ]
    if isinstance(content, str):
        return content.removeprefix("\ufeff"), []
    try:
        return content.decode("utf-8-sig"), []  # a BOM (Windows editors) is fine
    except UnicodeDecodeError as exc:
        return None, [
            error(
                file,
                f"is not UTF-8 text (byte {exc.start})",
                hint="save it as UTF-8 (most editors: 'Save with encoding')",
            )
        ]


def yaml_error(file: str, exc: yaml.YAMLError) -> Finding:
    """A parser or scanner error as a finding on its line."""
    mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
    problem = getattr(exc, "problem", None) or (str(exc).splitlines() or ["syntax error"])[0]
    hint = "fix the YAML syntax (check indentation, colons and quotes)"
    if "\t" in str(exc) or "tab" in str(problem):
        hint = "YAML does not allow tabs for indentation; use spaces"
    return error(
        file,
        f"is not valid YAML: {quote(str(problem), 120)[1:-1]}",
        line=mark.line + 1 if mark is not None else None,
        hint=hint,
    )


def _scan_events(text: str, file: str) -> Finding | None:
    """The first reason not to compose ``text``, from its event stream alone."""
    depth = 0
    for count, event in enumerate(yaml.parse(text, Loader=_LOADER)):
        line = event.start_mark.line + 1 if event.start_mark is not None else None
        if isinstance(event, yaml.AliasEvent) or getattr(event, "anchor", None):
            kind = "alias" if isinstance(event, yaml.AliasEvent) else "anchor"
            return error(
                file,
                f"uses a YAML {kind} (&name / *name), which is not allowed",
                line=line,
                hint="write the values out in full; anchors can expand without bound",
            )
        if isinstance(event, yaml.CollectionStartEvent):
            depth += 1
            if depth > MAX_DEPTH:
                return error(
                    file,
                    f"is nested more than {MAX_DEPTH} levels deep",
                    line=line,
                    hint="use plain key: value lines and short lists",
                )
        elif isinstance(event, yaml.CollectionEndEvent):
            depth -= 1
        if count > MAX_EVENTS:
            return error(file, f"has more than {MAX_EVENTS:,} values", line=line)
    return None


def load(content: bytes | str, file: str, max_bytes: int) -> LoadedYaml:
    """Decode, scan and safely load one uploaded YAML file; never raises."""
    text, problems = _decode(content, file, max_bytes)
    if text is None:
        return LoadedYaml(findings=problems)
    try:
        problem = _scan_events(text, file)
        if problem is not None:
            return LoadedYaml(findings=[problem])
        loader = _LOADER(text)
        try:
            node = loader.get_single_node()
            data = loader.construct_document(node) if node is not None else None
        finally:
            loader.dispose()
    except yaml.YAMLError as exc:
        return LoadedYaml(findings=[yaml_error(file, exc)])
    except RecursionError:
        return LoadedYaml(findings=[error(file, "is nested too deeply", hint="flatten it")])
    except Exception as exc:  # a constructor on a hostile scalar (a 2020-13-45 date, ...)
        return LoadedYaml(
            findings=[
                error(
                    file,
                    f"has a value YAML cannot read ({type(exc).__name__}: "
                    f"{quote(str(exc), 100)[1:-1]})",
                    hint="quote unusual values ('...')",
                )
            ]
        )
    return LoadedYaml(data=data, node=node)


def key_lines(node: yaml.Node | None) -> dict[str, int]:
    """1-based line of each key of a mapping node (the first, when a key repeats)."""
    if not isinstance(node, yaml.MappingNode):
        return {}
    lines: dict[str, int] = {}
    for key_node, _ in node.value:
        if isinstance(key_node, yaml.ScalarNode):
            lines.setdefault(str(key_node.value), key_node.start_mark.line + 1)
    return lines
