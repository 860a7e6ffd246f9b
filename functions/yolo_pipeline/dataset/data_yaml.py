"""Safe parsing of an uploaded data.yaml into a typed, Ultralytics-equivalent config.

The file comes from a user, so: size is capped before it is read, anchors and aliases
are rejected from the token stream before anything is composed (an alias bomb costs a
linear scan), only ``yaml.safe_load`` builds objects, and a ``download`` key is an error
because Ultralytics would execute it. ``parse_data_yaml`` never raises: every problem is a
``Finding`` naming the key, the line and what to do.
"""

from __future__ import annotations

import math
import posixpath
import re
from dataclasses import dataclass, field
from typing import Any

import yaml

from yolo_pipeline.dataset.findings import Finding, error, warning
from yolo_pipeline.dataset.keypoints import POSE_KEYS, check_keypoint_keys

MAX_DATA_YAML_BYTES = 1024 * 1024
MAX_GENERATED_NAMES = 100_000  # nc without names: class_0..class_{nc-1}
SPLITS = ("train", "val", "test")
KNOWN_KEYS = frozenset({"path", "train", "val", "validation", "test", "nc", "names"})
# Extras seen in real exports; kept (with a warning) instead of being called unknown.
KNOWN_EXTRA_KEYS = frozenset(
    {"kpt_shape", "flip_idx", "channels", "roboflow", "license", "url", "version", "author"}
)
# The extras Ultralytics itself reads; only these reach the training data.yaml.
ULTRALYTICS_EXTRA_KEYS = frozenset({"kpt_shape", "flip_idx", "channels"})
_URL = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*://")
_WINDOWS_DRIVE = re.compile(r"^[a-zA-Z]:[\\/]")


@dataclass(frozen=True)
class DataYaml:
    names: list[str]  # class names, index = class id
    splits: dict[str, list[str]]  # 'train'/'val'/'test' -> dataset-root-relative POSIX paths
    extras: dict[str, Any] = field(default_factory=dict)

    @property
    def nc(self) -> int:
        return len(self.names)


@dataclass(frozen=True)
class ParsedDataYaml:
    config: DataYaml | None  # None when errors make it unusable
    findings: list[Finding]

    @property
    def errors(self) -> list[Finding]:
        return [f for f in self.findings if f.severity == "error"]


def _decode(content: bytes | str, file: str, out: list[Finding]) -> str | None:
    size = len(content.encode("utf-8", "replace")) if isinstance(content, str) else len(content)
    if size > MAX_DATA_YAML_BYTES:
        out.append(
            error(
                file,
                f"is {size:,} bytes; the limit is {MAX_DATA_YAML_BYTES:,}",
                hint="a data.yaml only needs paths and class names; remove embedded data",
            )
        )
        return None
    if isinstance(content, str):
        return content.removeprefix("\ufeff")
    try:
        return content.decode("utf-8-sig")  # a BOM (Windows editors) is fine
    except UnicodeDecodeError as exc:
        out.append(
            error(
                file,
                f"is not UTF-8 text (byte {exc.start})",
                hint="save data.yaml as UTF-8 (most editors: 'Save with encoding')",
            )
        )
        return None


def _scan_for_aliases(text: str, file: str, out: list[Finding]) -> bool:
    """True when the token stream has no anchors/aliases and scans cleanly."""
    try:
        for token in yaml.scan(text, Loader=yaml.SafeLoader):
            if isinstance(token, yaml.AnchorToken | yaml.AliasToken):
                kind = "anchor" if isinstance(token, yaml.AnchorToken) else "alias"
                out.append(
                    error(
                        file,
                        f"uses a YAML {kind} (&name / *name), which is not allowed",
                        line=token.start_mark.line + 1,
                        hint="write the values out in full; anchors can expand without bound",
                    )
                )
                return False
    except yaml.YAMLError as exc:
        out.append(_yaml_error(file, exc))
        return False
    return True


def _yaml_error(file: str, exc: yaml.YAMLError) -> Finding:
    mark = getattr(exc, "problem_mark", None)
    problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
    hint = "fix the YAML syntax (check indentation and quotes)"
    if "\t" in str(exc) or "tab" in str(problem):
        hint = "YAML does not allow tabs for indentation; use spaces"
    return error(
        file,
        f"is not valid YAML: {problem}",
        line=mark.line + 1 if mark is not None else None,
        hint=hint,
    )


def _key_lines(text: str) -> dict[str, int]:
    """1-based line of each top-level key (safe: aliases were already rejected)."""
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except Exception:  # only used to decorate findings
        return {}
    if not isinstance(node, yaml.MappingNode):
        return {}
    return {
        str(k.value): k.start_mark.line + 1 for k, _ in node.value if isinstance(k, yaml.ScalarNode)
    }


def _is_int_like(value: Any) -> bool:
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


def _parse_names(raw: Any, file: str, line: int | None, out: list[Finding]) -> list[str] | None:  # noqa: PLR0911 (to split, issue 10)
    if isinstance(raw, list):
        if not raw:
            out.append(
                error(
                    file,
                    "is an empty list",
                    line=line,
                    field="names",
                    hint="list one name per class, e.g. names: [cat, dog]",
                )
            )
            return None
        bad = [i for i, n in enumerate(raw) if isinstance(n, list | dict) or n is None]
        if bad:
            out.append(
                error(
                    file,
                    f"entry {bad[0]} is not a plain name",
                    line=line,
                    field="names",
                    hint="each class name must be a string",
                )
            )
            return None
        return [str(n) for n in raw]
    if isinstance(raw, dict):
        ids: dict[int, str] = {}
        for k, v in raw.items():
            if not _is_int_like(k) or int(float(k)) < 0:
                out.append(
                    error(
                        file,
                        f"key {k!r} is not a class id",
                        line=line,
                        field="names",
                        hint="use 0, 1, 2, ... as keys, or write names as a list",
                    )
                )
                return None
            if isinstance(v, list | dict) or v is None:
                out.append(
                    error(
                        file,
                        f"class {k} has no plain name",
                        line=line,
                        field="names",
                        hint="each class name must be a string",
                    )
                )
                return None
            ids[int(float(k))] = str(v)
        if not ids:
            out.append(
                error(
                    file,
                    "is an empty mapping",
                    line=line,
                    field="names",
                    hint="give at least one class, e.g. names: {0: cat}",
                )
            )
            return None
        missing = sorted(set(range(len(ids))) - set(ids))
        if missing:
            shown = ", ".join(map(str, missing[:10])) + (" ..." if len(missing) > 10 else "")
            out.append(
                error(
                    file,
                    f"has {len(ids)} classes but ids {min(ids)}-{max(ids)}; missing id(s) {shown}",
                    line=line,
                    field="names",
                    hint=f"number the classes 0-{len(ids) - 1} without gaps and renumber the "
                    "class ids in your label files to match",
                )
            )
            return None
        return [ids[i] for i in range(len(ids))]
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


def normalize_entry(raw: str, *, fallback: bool) -> tuple[str | None, str | None]:
    """Resolve one split entry to a root-relative POSIX path, or explain why not.

    Returns ``(path, None)`` or ``(None, reason_and_hint)``. ``fallback`` applies
    Ultralytics' rule for a string split: ``../x`` that does not exist becomes ``x``;
    the dataset root is the folder of data.yaml, so the ``..`` form never exists there.
    """
    entry = raw.strip()
    if not entry:
        return None, "is empty -> give a folder or .txt file relative to data.yaml"
    if _URL.match(entry):
        return None, (
            f"{entry!r} is a URL -> upload the images next to data.yaml and use a relative path"
        )
    if entry.startswith(("/", "\\")) or _WINDOWS_DRIVE.match(entry):
        return None, (
            f"{entry!r} is an absolute path -> use a path relative to data.yaml, e.g. images/train"
        )
    if "\\" in entry:
        fixed = entry.replace("\\", "/")
        return None, f"{entry!r} uses Windows backslashes -> write it as {fixed!r}"
    if fallback and entry.startswith("../"):
        entry = entry[3:]
    norm = posixpath.normpath(entry)
    if norm == ".." or norm.startswith("../"):
        return None, (
            f"{raw.strip()!r} points outside the dataset folder -> everything must be inside "
            "the folder (S3 prefix) that holds data.yaml"
        )
    return norm, None


def _parse_split(
    key: str, raw: Any, file: str, line: int | None, out: list[Finding]
) -> list[str] | None:
    if isinstance(raw, str):
        entries, fallback = [raw], True  # Ultralytics applies the ../ fallback to strings only
    elif isinstance(raw, list) and raw:
        entries, fallback = raw, False
    else:
        out.append(
            error(
                file,
                f"must be a path or a list of paths, not {raw!r:.60}",
                line=line,
                field=key,
                hint=f"e.g. {key}: images/{key}",
            )
        )
        return None
    paths: list[str] = []
    for item in entries:
        if not isinstance(item, str):
            out.append(
                error(
                    file,
                    f"entry {item!r:.60} is not a path",
                    line=line,
                    field=key,
                    hint=f"e.g. {key}: images/{key}",
                )
            )
            return None
        path, problem = normalize_entry(item, fallback=fallback)
        if problem:
            message, _, hint = problem.partition(" -> ")
            out.append(error(file, message, line=line, field=key, hint=hint))
            return None
        if path is not None and path not in paths:
            paths.append(path)
    return paths


def parse_data_yaml(content: bytes | str, file: str = "data.yaml") -> ParsedDataYaml:
    """Parse and check a data.yaml; never raises."""
    out: list[Finding] = []
    try:
        return _parse(content, file, out)
    except Exception as exc:  # a user's file must never crash the pipeline
        out.append(
            error(
                file,
                f"could not be read: {type(exc).__name__}",
                hint="simplify data.yaml to path/train/val/test/names",
            )
        )
        return ParsedDataYaml(None, out)


def _parse(content: bytes | str, file: str, out: list[Finding]) -> ParsedDataYaml:  # noqa: C901, PLR0912, PLR0915 (to split, issue 10)
    text = _decode(content, file, out)
    if text is None or not _scan_for_aliases(text, file, out):
        return ParsedDataYaml(None, out)
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        out.append(_yaml_error(file, exc))
        return ParsedDataYaml(None, out)
    except RecursionError:
        out.append(error(file, "is nested too deeply", hint="a data.yaml is a flat mapping"))
        return ParsedDataYaml(None, out)
    if not isinstance(data, dict):
        kind = "empty" if data is None else f"a {type(data).__name__}"
        out.append(
            error(
                file,
                f"must be a mapping of keys (train:, val:, names:), but it is {kind}",
                hint="see https://docs.ultralytics.com/datasets/detect/ for the format",
            )
        )
        return ParsedDataYaml(None, out)
    lines = _key_lines(text)
    data = {str(k): v for k, v in data.items()}
    usable = True

    if "download" in data:
        out.append(
            error(
                file,
                "is not allowed: Ultralytics would execute it as code or a shell command",
                line=lines.get("download"),
                field="download",
                hint="delete the download: key and upload the images themselves",
            )
        )
        usable = False

    extras: dict[str, Any] = {}
    for key in data:
        if key in KNOWN_KEYS or key == "download":
            continue
        if key in KNOWN_EXTRA_KEYS:
            extras[key] = data[key]
            if key not in POSE_KEYS:  # those are checked (dataset/keypoints.py)
                out.append(
                    warning(
                        file, "is an extra key; kept, not checked", line=lines.get(key), field=key
                    )
                )
        else:
            out.append(
                warning(
                    file,
                    "is not a data.yaml key and is ignored",
                    line=lines.get(key),
                    field=key,
                    hint="remove it or check its spelling",
                )
            )

    out += check_keypoint_keys(extras, lines, file)  # pose keys (issue 12)

    path = data.get("path")
    if path is not None and str(path).strip() not in {"", ".", "./"}:
        out.append(
            warning(
                file,
                f"{str(path)!r:.80} is ignored: the dataset root is the folder "
                "that holds data.yaml",
                line=lines.get("path"),
                field="path",
                hint="remove path: or set it to .",
            )
        )

    if "validation" in data:
        if "val" in data:
            out.append(
                warning(
                    file,
                    "is ignored because val: is also set",
                    line=lines.get("validation"),
                    field="validation",
                )
            )
        else:
            data["val"] = data["validation"]
            lines["val"] = lines.get("validation", 0)

    splits: dict[str, list[str]] = {}
    for key in SPLITS:
        if data.get(key) is None:
            if key == "test":
                continue
            hint = (
                "add val: pointing to validation images (e.g. move ~20% of train images to "
                "images/val and their labels to labels/val)"
                if key == "val"
                else "add train: pointing to your training images, e.g. train: images/train"
            )
            out.append(error(file, f"{key}: is required", field=key, hint=hint))
            usable = False
            continue
        parsed = _parse_split(key, data[key], file, lines.get(key), out)
        if parsed is None:
            usable = False
        else:
            splits[key] = parsed

    names: list[str] | None = None
    if data.get("names") is not None:
        names = _parse_names(data["names"], file, lines.get("names"), out)
        usable = usable and names is not None
    nc_raw = data.get("nc")
    if "nc" in data and not _is_int_like(nc_raw):
        out.append(
            error(
                file,
                f"{nc_raw!r:.40} is not an integer",
                line=lines.get("nc"),
                field="nc",
                hint="nc is the number of classes; or remove it",
            )
        )
        usable = False
    elif "nc" in data and nc_raw is not None:
        nc = int(float(nc_raw))
        if names is None and data.get("names") is None:
            if nc <= 0 or nc > MAX_GENERATED_NAMES:  # a huge nc would build names forever
                out.append(
                    error(
                        file,
                        f"is {nc}",
                        field="nc",
                        line=lines.get("nc"),
                        hint="a dataset needs at least one class"
                        if nc <= 0
                        else "list the classes in names: instead",
                    )
                )
                usable = False
            else:
                names = [f"class_{i}" for i in range(nc)]
                out.append(
                    warning(
                        file,
                        f"names: is missing; classes will be called class_0..class_{nc - 1}",
                        field="names",
                        hint="add names: [...] so results show real class names",
                    )
                )
        elif names is not None and nc != len(names):
            out.append(
                error(
                    file,
                    f"is {nc} but names lists {len(names)} classes",
                    line=lines.get("nc"),
                    field="nc",
                    hint=f"set nc: {len(names)} (or remove nc) or fix names",
                )
            )
            usable = False
    if names is None and data.get("names") is None and "nc" not in data:
        out.append(
            error(
                file,
                "names: is required",
                field="names",
                hint="list your classes, e.g. names: [cat, dog]",
            )
        )
        usable = False
    if names is not None:
        dupes = sorted({n for n in names if names.count(n) > 1}) if len(names) < 5000 else []
        if dupes:
            out.append(
                warning(
                    file,
                    f"repeats class name(s) {', '.join(map(repr, dupes[:5]))}",
                    line=lines.get("names"),
                    field="names",
                    hint="give each class a distinct name",
                )
            )

    if not usable or names is None:
        return ParsedDataYaml(None, out)
    return ParsedDataYaml(DataYaml(names=names, splits=splits, extras=extras), out)


def sanitized_data_yaml(config: DataYaml, root: str) -> dict[str, Any]:
    """The data.yaml train.py gives Ultralytics: known keys only, never ``download``.

    ``path`` is the absolute dataset folder (Ultralytics resolves a relative one against
    the working directory), and every split entry is already root-relative.
    """
    out: dict[str, Any] = {"path": root}
    for key, entries in config.splits.items():
        out[key] = entries[0] if len(entries) == 1 else list(entries)
    out["nc"] = config.nc
    out["names"] = dict(enumerate(config.names))
    for key, value in config.extras.items():
        if key in ULTRALYTICS_EXTRA_KEYS:
            out[key] = value
    return out
