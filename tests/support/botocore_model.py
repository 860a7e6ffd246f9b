"""Validate a request (or response-shaped data) against botocore's service model.

moto accepts almost anything, so a request that moto takes can still be refused by AWS.
``validate_request`` runs botocore's own ``ParamValidator`` (types, required members,
``min``) and then walks the shape checking what botocore leaves to the server:
``pattern``, ``enum``, ``max`` (and ``min``) on string/list/map lengths and number values.

The model's patterns are Java regexes: ``\\p{L}``-style classes are translated into
explicit Python character ranges (built once from ``unicodedata``), and each pattern
must match the WHOLE value, as the service enforces it.
"""

from __future__ import annotations

import functools
import re
import sys
import unicodedata
from collections.abc import Iterator
from typing import Any

import botocore.session
from botocore.model import ListShape, MapShape, OperationModel, Shape, StructureShape
from botocore.validate import ParamValidator

# Java POSIX-style classes (ASCII unless UNICODE_CHARACTER_CLASS, which AWS does not use).
_POSIX = {
    "Alnum": "a-zA-Z0-9",
    "Alpha": "a-zA-Z",
    "Digit": "0-9",
    "Upper": "A-Z",
    "Lower": "a-z",
    "Punct": re.escape("!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~"),
    "Print": "\\x20-\\x7e",
    "Graph": "\\x21-\\x7e",
    "Space": " \\t\\n\\x0b\\f\\r",
    "ASCII": "\\x00-\\x7f",
}
_PROP = re.compile(r"\\([pP])\{(\w+)\}")


class ModelValidationError(AssertionError):
    """The params break the service model; ``problems`` lists every one of them."""

    def __init__(self, service: str, operation: str, problems: list[str]) -> None:
        self.problems = problems
        lines = "\n  - ".join(problems)
        super().__init__(f"{service}.{operation}: {len(problems)} problem(s):\n  - {lines}")


@functools.cache
def _session() -> botocore.session.Session:
    return botocore.session.get_session()


@functools.cache
def operation_model(service: str, operation: str) -> OperationModel:
    return _session().get_service_model(service).operation_model(operation)


@functools.cache
def _category_ranges(category: str, negate: bool = False) -> str:
    """Python char-class body for a Unicode general category (``L``, ``Zs``, ...)

    or, with ``negate``, for every code point outside it (Java's ``\\P{..}``)."""
    parts: list[str] = []
    start = prev = -2
    for code in range(sys.maxunicode + 1):
        if unicodedata.category(chr(code)).startswith(category) != negate:
            if code != prev + 1:
                if start >= 0:
                    parts.append(_range(start, prev))
                start = code
            prev = code
    if start >= 0:
        parts.append(_range(start, prev))
    return "".join(parts)


@functools.cache
def _category_ranges_outside(posix_body: str) -> str:
    """Complement of an ASCII class body, as ranges (usable inside another class)."""
    inside = re.compile(f"[{posix_body}]")
    parts: list[str] = []
    start = None
    for code in range(sys.maxunicode + 2):
        outside = code <= sys.maxunicode and not inside.match(chr(code))
        if outside and start is None:
            start = code
        elif not outside and start is not None:
            parts.append(_range(start, code - 1))
            start = None
    return "".join(parts)


def _range(lo: int, hi: int) -> str:
    return f"\\U{lo:08x}" if lo == hi else f"\\U{lo:08x}-\\U{hi:08x}"


@functools.cache
def python_regex(java_pattern: str) -> re.Pattern[str]:
    """Translate the Java-isms botocore models use into a compiled Python regex."""

    def expand(match: re.Match[str]) -> str:
        negate, name = match.group(1) == "P", match.group(2)
        if name in _POSIX:
            posix = _POSIX[name]
            return _category_ranges_outside(posix) if negate else posix
        return _category_ranges(name.removeprefix("Is"), negate)

    # Expand \p{..} both inside a class ("[\p{L}_]" -> "[<ranges>_]") and alone.
    out: list[str] = []
    in_class = False
    i = 0
    while i < len(java_pattern):
        ch = java_pattern[i]
        match = _PROP.match(java_pattern, i)
        if match:
            body = expand(match)
            out.append(body if in_class else f"[{body}]")
            i = match.end()
            continue
        if ch == "\\" and i + 1 < len(java_pattern):
            out.append(java_pattern[i : i + 2])
            i += 2
            continue
        if ch == "[" and not in_class:
            in_class = True
        elif ch == "]" and in_class:
            in_class = False
        out.append(ch)
        i += 1
    # Some models repeat an end anchor ("(...)*${1,128}"), which Java tolerates.
    translated = re.sub(r"\$\{\d+(,\d*)?\}", "$", "".join(out))
    return re.compile(translated)


def _length_or_value(value: Any, shape: Shape) -> tuple[str, float] | None:
    if shape.type_name in {"string", "list", "map", "blob"} and isinstance(
        value, (str, list, dict, bytes)
    ):
        return "length", len(value)
    if shape.type_name in {"integer", "long", "float", "double"} and isinstance(
        value, (int, float)
    ):
        return "value", value
    return None


def _walk(value: Any, shape: Shape, path: str) -> Iterator[str]:
    meta = shape.metadata
    measured = _length_or_value(value, shape)
    if measured is not None:
        what, size = measured
        if "min" in meta and size < meta["min"]:
            yield f"{path}: {what} {size} is below the minimum {meta['min']}"
        if "max" in meta and size > meta["max"]:
            yield f"{path}: {what} {size} is above the maximum {meta['max']}"
    if shape.type_name == "string" and isinstance(value, str):
        enum = meta.get("enum")
        if enum and value not in enum:
            yield f"{path}: {value!r} is not one of {sorted(enum)}"
        pattern = meta.get("pattern")
        if pattern and not python_regex(pattern).fullmatch(value):
            yield f"{path}: {value!r} does not match the pattern {pattern!r}"
    elif isinstance(shape, StructureShape) and isinstance(value, dict):
        for name, member_value in value.items():
            member = shape.members.get(name)
            if member is not None:  # unknown members are ParamValidator's to report
                yield from _walk(member_value, member, f"{path}.{name}")
    elif isinstance(shape, ListShape) and isinstance(value, list):
        for index, item in enumerate(value):
            yield from _walk(item, shape.member, f"{path}[{index}]")
    elif isinstance(shape, MapShape) and isinstance(value, dict):
        for key, item in value.items():
            yield from _walk(key, shape.key, f"{path}.<key {key!r}>")
            yield from _walk(item, shape.value, f"{path}[{key!r}]")


def problems(
    service: str, operation: str, params: dict[str, Any], *, output: bool = False
) -> list[str]:
    """Every way ``params`` breaks the model (input shape, or output shape if ``output``)."""
    op = operation_model(service, operation)
    shape = op.output_shape if output else op.input_shape
    if shape is None:
        return [] if not params else [f"{operation} takes no {'output' if output else 'input'}"]
    found: list[str] = []
    report = ParamValidator().validate(params, shape)
    if report.has_errors():
        found.extend(
            line.strip()
            for line in report.generate_report().splitlines()
            if line.strip() and not line.startswith("Parameter validation failed")
        )
    found.extend(_walk(params, shape, operation))
    return list(dict.fromkeys(found))


def validate_request(service: str, operation: str, params: dict[str, Any]) -> None:
    """Raise ``ModelValidationError`` listing every problem of ``params`` for the call."""
    found = problems(service, operation, params)
    if found:
        raise ModelValidationError(service, operation, found)


def validate_response(service: str, operation: str, data: dict[str, Any]) -> None:
    """The same checks against the operation's OUTPUT shape (e.g. DescribeTrainingJob)."""
    found = problems(service, operation, data, output=True)
    if found:
        raise ModelValidationError(service, operation, found)
