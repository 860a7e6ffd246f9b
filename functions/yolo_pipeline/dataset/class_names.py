"""The class names of a data.yaml: ``names`` as a list or a mapping, ``nc``, and how they
agree, as Ultralytics reads them (``str(v)`` of every name, ids from 0 without gaps)."""

from __future__ import annotations

import math
from collections import Counter
from typing import Any

from yolo_pipeline.findings import Finding, error, warning
from yolo_pipeline.text import quote

MAX_CLASSES = 10_000
_MAX_CLASSES_HINT = "check names:; a detector with this many classes will not train"


def is_int_like(value: Any) -> bool:
    if isinstance(value, bool):
        return False
    if isinstance(value, int):
        return True
    if isinstance(value, float):
        return math.isfinite(value) and value == int(value)
    if isinstance(value, str):
        try:
            f = float(value)
        except ValueError:
            return False
        return math.isfinite(f) and f == int(f)
    return False


def _plain_names(
    raw: list[Any], file: str, line: int | None, out: list[Finding]
) -> list[str] | None:
    def fail(message: str, hint: str) -> None:
        out.append(error(file, message, line=line, field="names", hint=hint))

    if not raw:
        fail("is an empty list", "list one name per class, e.g. names: [cat, dog]")
        return None
    if len(raw) > MAX_CLASSES:
        fail(f"lists {len(raw):,} classes; the limit is {MAX_CLASSES:,}", _MAX_CLASSES_HINT)
        return None
    bad = next((i for i, n in enumerate(raw) if isinstance(n, list | dict)), None)
    if bad is not None:
        fail(f"entry {bad} is not a plain name", "each class name must be a string")
        return None
    _odd_names(dict(enumerate(raw)), file, line, out)
    return [_name(n) for n in raw]


def _name(value: Any) -> str:
    """A class name as Ultralytics makes it (``check_class_names``: ``str(v)``)."""
    return str(value)


def _odd_names(raw: dict[int, Any], file: str, line: int | None, out: list[Finding]) -> None:
    """Warnings for names Ultralytics takes but nobody meant: empty entries (``None`` or
    ``''``) and YAML booleans (``yes``, ``no``, ``on`` unquoted become True/False)."""
    empty = [i for i, n in raw.items() if n is None or (isinstance(n, str) and not n.strip())]
    if empty:
        out.append(
            warning(
                file,
                f"{_ids(empty)} empty; the class is named {_name(raw[empty[0]])!r}",
                line=line,
                field="names",
                hint="give every class a name (or remove the entry and renumber the labels)",
            )
        )
    flags = [i for i, n in raw.items() if isinstance(n, bool)]
    if flags:
        out.append(
            warning(
                file,
                f"{_ids(flags)} read by YAML as a boolean and named "
                f"{_name(raw[flags[0]])!r} (yes, no, on, off, true and false are booleans)",
                line=line,
                field="names",
                hint="quote such names: names: ['yes', 'no']",
            )
        )


def _ids(ids: list[int]) -> str:
    """``entry 2 is`` or ``entries 2, 4 are``."""
    shown = ", ".join(map(str, ids[:5])) + (" ..." if len(ids) > 5 else "")
    return f"entry {shown} is" if len(ids) == 1 else f"entries {shown} are"


def _id_names(
    raw: dict[Any, Any], file: str, line: int | None, out: list[Finding]
) -> list[str] | None:
    def fail(message: str, hint: str) -> None:
        out.append(error(file, message, line=line, field="names", hint=hint))

    if not raw:
        fail("is an empty mapping", "give at least one class, e.g. names: {0: cat}")
        return None
    if len(raw) > MAX_CLASSES:
        fail(f"lists {len(raw):,} classes; the limit is {MAX_CLASSES:,}", _MAX_CLASSES_HINT)
        return None
    ids: dict[int, Any] = {}
    for k, v in raw.items():
        if not is_int_like(k) or int(float(k)) < 0:
            fail(
                f"key {quote(k, 40)} is not a class id",
                "use 0, 1, 2, ... as keys, or write names as a list",
            )
            return None
        if isinstance(v, list | dict):
            fail(f"class {quote(k, 40)} has no plain name", "each class name must be a string")
            return None
        ids[int(float(k))] = v
    missing = sorted(set(range(len(ids))) - set(ids))
    if missing:
        shown = ", ".join(map(str, missing[:10])) + (" ..." if len(missing) > 10 else "")
        fail(
            f"has {len(ids)} classes but ids {min(ids)}-{quote(max(ids), 30)}; "
            f"missing id(s) {shown}",
            f"number the classes 0-{len(ids) - 1} without gaps and renumber the "
            "class ids in your label files to match",
        )
        return None
    _odd_names(ids, file, line, out)
    return [_name(ids[i]) for i in range(len(ids))]


def _parse_names(raw: Any, file: str, line: int | None, out: list[Finding]) -> list[str] | None:
    if isinstance(raw, list):
        return _plain_names(raw, file, line, out)
    if isinstance(raw, dict):
        return _id_names(raw, file, line, out)
    out.append(
        error(
            file,
            f"must be a list or a mapping, not {type(raw).__name__}",
            line=line,
            field="names",
            hint="e.g. names: [cat, dog] or names: {0: cat, 1: dog}",
        )
    )
    return None


def class_count(
    data: dict[str, Any], lines: dict[str, int], file: str, out: list[Finding]
) -> tuple[bool, int | None]:
    """``nc`` checked and bounded: (usable, nc or None when absent)."""
    if "nc" not in data or data["nc"] is None:
        return True, None
    raw = data["nc"]
    line = lines.get("nc")
    if not is_int_like(raw):
        out.append(
            error(
                file,
                f"{quote(raw, 40)} is not an integer",
                line=line,
                field="nc",
                hint="nc is the number of classes; or remove it",
            )
        )
        return False, None
    nc = int(float(raw))
    if nc <= 0 or nc > MAX_CLASSES:
        out.append(
            error(
                file,
                f"is {quote(nc, 30)}; it must be from 1 to {MAX_CLASSES:,}",
                field="nc",
                line=line,
                hint="nc is the number of classes (names: lists them)"
                if nc > 0
                else "a dataset needs at least one class",
            )
        )
        return False, None
    return True, nc


def resolve_names(
    data: dict[str, Any], lines: dict[str, int], file: str, out: list[Finding]
) -> list[str] | None:
    """The class names from ``names`` and/or ``nc``; None when they are unusable."""
    names: list[str] | None = None
    has_names = data.get("names") is not None
    if has_names:
        names = _parse_names(data["names"], file, lines.get("names"), out)
    nc_ok, nc = class_count(data, lines, file, out)
    if not has_names and "nc" not in data:
        out.append(
            error(
                file,
                "names: is required",
                field="names",
                hint="list your classes, e.g. names: [cat, dog]",
            )
        )
        return None
    if not nc_ok or (has_names and names is None):
        return None
    if names is None and nc is not None:
        out.append(
            warning(
                file,
                f"names: is missing; classes will be called class_0..class_{nc - 1}",
                field="names",
                hint="add names: [...] so results show real class names",
            )
        )
        return [f"class_{i}" for i in range(nc)]
    if names is not None and nc is not None and nc != len(names):
        out.append(
            error(
                file,
                f"is {nc} but names lists {len(names)} classes",
                line=lines.get("nc"),
                field="nc",
                hint=f"set nc: {len(names)} (or remove nc) or fix names",
            )
        )
        return None
    if names is not None:
        _warn_duplicate_names(names, lines.get("names"), file, out)
    return names


def _warn_duplicate_names(
    names: list[str], line: int | None, file: str, out: list[Finding]
) -> None:
    dupes = sorted(name for name, count in Counter(names).items() if count > 1)
    if dupes:
        out.append(
            warning(
                file,
                f"repeats class name(s) {', '.join(quote(d, 40) for d in dupes[:5])}",
                line=line,
                field="names",
                hint="give each class a distinct name",
            )
        )
