"""Safe parsing of an uploaded data.yaml into a typed, Ultralytics-equivalent config.

The file comes from a user, so: size is capped before it is read, anchors and aliases
are rejected from the token stream before anything is composed (an alias bomb costs a
linear scan), only ``yaml.safe_load`` builds objects, and a ``download`` key is an error
because Ultralytics would execute it. ``parse_data_yaml`` never raises: every problem is a
``Finding`` naming the key, the line and what to do.
"""

from __future__ import annotations

import posixpath
import re
from dataclasses import dataclass, field
from typing import Any

from yolo_pipeline import safe_yaml
from yolo_pipeline.dataset.class_names import resolve_names
from yolo_pipeline.dataset.keypoints import POSE_KEYS, check_keypoint_keys
from yolo_pipeline.dataset.labels import is_image
from yolo_pipeline.dataset.task_keys import TASK_DATA_KEYS, TASK_YAML_KEYS
from yolo_pipeline.findings import Finding, error, warning
from yolo_pipeline.text import quote

MAX_DATA_YAML_BYTES = 1024 * 1024
# Far above any real dataset (Objects365 has 365, LVIS 1,203, Open Images 601) and small
# enough that names, the label check and the training head stay cheap.
MAX_UNKNOWN_KEYS = 10  # warnings about unknown keys; the rest are counted
SPLITS = ("train", "val", "test")
KNOWN_KEYS = frozenset({"path", "train", "val", "validation", "test", "nc", "names"})
# Extras seen in real exports; kept (with a warning) instead of being called unknown.
KNOWN_EXTRA_KEYS = TASK_YAML_KEYS | frozenset(
    {"kpt_shape", "flip_idx", "channels", "roboflow", "license", "url", "version", "author"}
)
# The extras Ultralytics itself reads; only these reach the training data.yaml.
ULTRALYTICS_EXTRA_KEYS = frozenset({"kpt_shape", "flip_idx", "channels"}) | TASK_DATA_KEYS
_URL = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*://")
_WINDOWS_DRIVE = re.compile(r"^[a-zA-Z]:[\\/]")
# Ultralytics' YAML.load: what it deletes before parsing a file a second time.
_NOT_YAML_PRINTABLE = re.compile(
    r"[^\x09\x0A\x0D\x20-\x7E\x85\xA0-\uD7FF\uE000-\uFFFD\U00010000-\U0010ffff]+"
)


@dataclass(frozen=True)
class DataYaml:
    names: list[str]  # class names, index = class id
    splits: dict[str, list[str]]  # 'train'/'val'/'test' -> dataset-root-relative POSIX paths
    extras: dict[str, Any] = field(default_factory=dict)
    # Where each top-level key sits, for findings made after parsing (flip_idx under pose).
    key_lines: dict[str, int] = field(default_factory=dict, compare=False, repr=False)

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
            f"{quote(entry)} is a URL -> upload the images next to data.yaml and use a "
            "relative path"
        )
    if entry.startswith(("/", "\\")) or _WINDOWS_DRIVE.match(entry):
        return None, (
            f"{quote(entry)} is an absolute path -> use a path relative to data.yaml, "
            "e.g. images/train"
        )
    if "\\" in entry:
        fixed = entry.replace("\\", "/")
        return None, f"{quote(entry)} uses Windows backslashes -> write it as {quote(fixed)}"
    if fallback and entry.startswith("../"):
        entry = entry[3:]
    norm = posixpath.normpath(entry)
    if norm == ".." or norm.startswith("../"):
        return None, (
            f"{quote(raw.strip())} points outside the dataset folder -> everything must be inside "
            "the folder (S3 prefix) that holds data.yaml"
        )
    return norm, None


def list_line_path(list_file: str, raw: str) -> tuple[str | None, str | None]:
    """One line of a ``.txt`` split list, read as Ultralytics reads it, as a root-relative
    image path: ``(path, None)``; ``(None, None)`` when Ultralytics would not take it as an
    image (blank, spaces around it, not an image suffix); ``(None, why)`` when it cannot be
    inside the dataset. ``./x`` is relative to the list file's folder (Ultralytics rewrites
    those); any other relative line is taken relative to the dataset root, which is what the
    container's resolved copy of the list gives Ultralytics (container/list_files.py).
    """
    if not raw or raw != raw.strip() or not is_image(raw):
        return None, None
    candidate = (
        posixpath.join(posixpath.dirname(list_file), raw[2:]) if raw.startswith("./") else raw
    )
    return normalize_entry(candidate, fallback=False)


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
                f"must be a path or a list of paths, not {quote(raw, 60)}",
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
                    f"entry {quote(item, 60)} is not a path",
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
        if path is not None:
            paths.append(path)
    return list(dict.fromkeys(paths))  # unique, in order, linear


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


def _stripped_like_ultralytics(content: bytes | str) -> str | None:
    """The text with the characters YAML refuses removed, as Ultralytics retries a file that
    fails to parse (``YAML.load``: a DOS Ctrl-Z at the end, a stray control character);
    ``None`` when nothing would change. Text that is not UTF-8 stays refused: Ultralytics
    reads it with ``errors="ignore"``, which silently mangles class names."""
    try:
        text = content if isinstance(content, str) else content.decode("utf-8-sig")
    except UnicodeDecodeError:
        return None
    stripped = _NOT_YAML_PRINTABLE.sub("", text)
    return stripped if stripped != text else None


def _parse(content: bytes | str, file: str, out: list[Finding]) -> ParsedDataYaml:
    loaded = safe_yaml.load(content, file, MAX_DATA_YAML_BYTES)
    stripped = None if loaded.ok else _stripped_like_ultralytics(content)
    if stripped is not None and (retry := safe_yaml.load(stripped, file, MAX_DATA_YAML_BYTES)).ok:
        loaded = retry
        out.append(
            warning(
                file,
                "holds control characters (a DOS end-of-file Ctrl-Z?); they are removed, "
                "as Ultralytics removes them",
                hint="save data.yaml as plain UTF-8 text",
            )
        )
    out += loaded.findings
    data = loaded.data
    if not loaded.ok:
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
    lines = safe_yaml.key_lines(loaded.node)
    data = {str(k): v for k, v in data.items()}
    usable, extras = _check_keys(data, lines, file, out)
    splits = _parse_splits(data, lines, file, out)
    names = resolve_names(data, lines, file, out)
    if not usable or splits is None or names is None:
        return ParsedDataYaml(None, out)
    config = DataYaml(names=names, splits=splits, extras=extras, key_lines=lines)
    return ParsedDataYaml(config, out)


def _check_keys(
    data: dict[str, Any], lines: dict[str, int], file: str, out: list[Finding]
) -> tuple[bool, dict[str, Any]]:
    """``download`` (an error), extras and unknown keys, ``path``, ``validation``."""
    usable = "download" not in data
    if not usable:
        out.append(
            error(
                file,
                "is not allowed: Ultralytics would execute it as code or a shell command",
                line=lines.get("download"),
                field="download",
                hint="delete the download: key and upload the images themselves",
            )
        )
    extras: dict[str, Any] = {}
    unknown = [k for k in data if k not in KNOWN_KEYS | KNOWN_EXTRA_KEYS and k != "download"]
    for key in (k for k in data if k in KNOWN_EXTRA_KEYS):
        extras[key] = data[key]
        if key == "channels":
            out += _check_channels(data[key], lines.get(key), file)
        elif key not in POSE_KEYS | TASK_YAML_KEYS:  # those are checked where they are read
            out.append(
                warning(file, "is an extra key; kept, not checked", line=lines.get(key), field=key)
            )
    for key in unknown[:MAX_UNKNOWN_KEYS]:
        out.append(
            warning(
                file,
                "is not a data.yaml key and is ignored",
                line=lines.get(key),
                field=quote(key, 60)[1:-1],
                hint="remove it or check its spelling",
            )
        )
    if len(unknown) > MAX_UNKNOWN_KEYS:
        out.append(warning(file, f"... and {len(unknown) - MAX_UNKNOWN_KEYS} more unknown keys"))
    out += check_keypoint_keys(extras, lines, file)
    _check_path_key(data, lines, file, out)
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
    return usable, extras


def _check_channels(value: Any, line: int | None, file: str) -> list[Finding]:
    """``channels`` sets the model's input channels; Ultralytics needs a positive integer
    (whether the images have that many is judged with the images, in the validator)."""
    if isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= 16:
        return []
    return [
        error(
            file,
            f"{quote(value, 30)} is not a number of image channels",
            line=line,
            field="channels",
            hint="use 3 for colour images or 1 for greyscale, or remove channels:",
        )
    ]


def _check_path_key(
    data: dict[str, Any], lines: dict[str, int], file: str, out: list[Finding]
) -> None:
    path = data.get("path")
    if path is not None and not (isinstance(path, str) and path.strip() in {"", ".", "./"}):
        out.append(
            warning(
                file,
                f"{quote(path, 80)} is ignored: the dataset root is the folder that "
                "holds data.yaml",
                line=lines.get("path"),
                field="path",
                hint="remove path: or set it to .",
            )
        )


def _parse_splits(
    data: dict[str, Any], lines: dict[str, int], file: str, out: list[Finding]
) -> dict[str, list[str]] | None:
    """train and val (required) and test (optional), root-relative; None on an error."""
    splits: dict[str, list[str]] = {}
    usable = True
    for key in SPLITS:
        if key == "test" and data.get(key) in (None, "", []):
            continue  # Ultralytics skips an empty test split (`if data.get(k)`)
        if data.get(key) is None:
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
    return splits if usable else None


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
