"""YOLO label files: pairing with images, and checking their rows like Ultralytics does.

Ultralytics (``verify_image_label``) silently drops an image whose label file is
malformed; we report every such problem instead, with the file, line and column, and
the likely cause (pixel coordinates, commas, a confidence column, a class name...).
"""

from __future__ import annotations

import math
import struct
from collections import Counter
from dataclasses import dataclass, field

from yolo_pipeline.dataset.findings import Finding, error, warning
from yolo_pipeline.text import quote

# Ultralytics' IMG_FORMATS (ultralytics/data/utils.py), matched case-insensitively.
IMG_FORMATS = frozenset(
    {
        "avif",
        "bmp",
        "dng",
        "heic",
        "heif",
        "jp2",
        "jpeg",
        "jpg",
        "mpo",
        "png",
        "tif",
        "tiff",
        "webp",
    }
)
TOLERANCE = 0.01  # Ultralytics accepts coordinates up to 1.01 (and clips them)
# The bounds as numpy compares them with a float32 array (NEP 50: the Python float is cast).
_HIGH = struct.unpack("f", struct.pack("f", 1 + TOLERANCE))[0]
_LOW = struct.unpack("f", struct.pack("f", -TOLERANCE))[0]
MAX_PROBLEMS_PER_FILE = 5
MAX_LABEL_BYTES = 8 * 1024 * 1024


def is_image(path: str) -> bool:
    """Ultralytics' rule: the text after the last dot, lower-cased, is an image format."""
    return path.rpartition(".")[2].lower() in IMG_FORMATS and "." in path.rsplit("/", 1)[-1]


def label_path(image: str) -> str:
    """Label file for a root-relative image path (Ultralytics' ``img2label_paths``).

    The LAST ``/images/`` becomes ``/labels/`` and the suffix becomes ``.txt``. Ultralytics
    sees absolute paths, so a root-relative path is given a leading slash first.
    """
    full = "/" + image
    swapped = "/labels/".join(full.rsplit("/images/", 1))
    return swapped.rsplit(".", 1)[0][1:] + ".txt"


@dataclass
class LabelFileResult:
    """What one label file contributed; small, so thousands can be kept."""

    path: str
    instances: Counter[int] = field(default_factory=Counter)
    rows: int = 0
    segment_rows: int = 0
    box_rows: int = 0
    problems: list[Finding] = field(default_factory=list)  # capped at MAX_PROBLEMS_PER_FILE
    problem_count: int = 0
    notes: Counter[str] = field(default_factory=Counter)  # warning kinds -> count

    @property
    def empty(self) -> bool:
        return self.rows == 0

    @property
    def ok(self) -> bool:
        return self.problem_count == 0

    def add(self, finding: Finding) -> None:
        self.problem_count += 1
        if len(self.problems) < MAX_PROBLEMS_PER_FILE:
            self.problems.append(finding)


def _number(token: str) -> float | None:
    """``token`` as Ultralytics reads it: ``float()`` (so ``0.1_5`` is 0.15), then stored
    as float32 (so ``1.010000001`` is 1.01). Overflow is inf, which the callers refuse."""
    try:
        value = float(token)
    except ValueError:
        return None
    return _float32(value)


def _float32(value: float) -> float:
    if not math.isfinite(value):
        return value
    try:
        return float(struct.unpack("f", struct.pack("f", value))[0])
    except OverflowError:  # beyond float32's range: numpy makes it inf
        return math.copysign(math.inf, value)


def check_label_file(
    path: str,
    content: bytes,
    names: list[str],
    kpt_shape: tuple[int, int] | None = None,
) -> LabelFileResult:
    """Check every row of one label file; never raises."""
    result = LabelFileResult(path)
    nc = len(names)
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        result.add(
            error(
                path,
                f"is not UTF-8 text (byte {exc.start})",
                hint="label files are plain text: 'class cx cy w h' per line",
            )
        )
        return result
    if "\r" in text:
        result.notes["crlf"] += 1  # fine for Ultralytics; counted for the stats
    kpt_cols = 5 + kpt_shape[0] * kpt_shape[1] if kpt_shape else None
    seen: set[tuple[str, ...]] = set()
    kinds: dict[str, int] = {}  # 'box'/'segment' -> first line
    for lineno, raw in enumerate(text.splitlines(), start=1):
        cols = raw.split()
        if not cols:
            continue
        result.rows += 1
        _check_row(result, path, lineno, cols, names, nc, kpt_cols, kinds)
        key = tuple(cols)
        if key in seen:
            result.notes["duplicate"] += 1
        seen.add(key)
    if "box" in kinds and "segment" in kinds:
        result.add(
            error(
                path,
                f"mixes box rows (line {kinds['box']}) and polygon rows (line {kinds['segment']})",
                hint="use one format per file; Ultralytics drops such a file",
            )
        )
    return result


def _check_row(  # noqa: PLR0912 (to split, issue 10)
    result: LabelFileResult,
    path: str,
    line: int,
    cols: list[str],
    names: list[str],
    nc: int,
    kpt_cols: int | None,
    kinds: dict[str, int],
) -> None:
    n = len(cols)
    if (n == 1 and "," in cols[0]) or (n < 5 and any("," in c for c in cols)):
        result.add(
            error(
                path,
                "values are separated by commas",
                line=line,
                hint="separate the 5 values with spaces: 'class cx cy w h'",
            )
        )
        return
    if n < 5:
        result.add(
            error(
                path,
                f"has {n} column(s); a box row needs 5 (class cx cy w h)",
                line=line,
                hint="complete or delete the row",
            )
        )
        return
    is_kpt = kpt_cols is not None and n == kpt_cols
    if n == 5 or is_kpt:
        kind = "box"
    elif n == 6:
        result.add(
            error(
                path,
                "has 6 columns; a box row has 5 (class cx cy w h)",
                line=line,
                hint="drop the extra column (a confidence score from exported predictions?)",
            )
        )
        return
    elif (n - 1) % 2:
        result.add(
            error(
                path,
                f"polygon row has {n - 1} coordinates, an odd number",
                line=line,
                hint="a polygon is class then x y pairs: 'class x1 y1 x2 y2 x3 y3 ...'",
            )
        )
        return
    else:
        kind = "segment"
    kinds.setdefault(kind, line)

    cls = _number(cols[0])
    if cls is None or not math.isfinite(cls) or cls != int(cls):
        hint = "the first column is the class id (0-based integer)"
        if cols[0] in names:
            hint = f"use the class id, not its name: {cols[0]} is {names.index(cols[0])}"
        result.add(
            error(
                path,
                f"class {quote(cols[0])} is not an integer",
                line=line,
                field="class",
                hint=hint,
            )
        )
        return
    cid = int(cls)
    if not 0 <= cid < nc:
        result.add(
            error(
                path,
                f"class {cid} is out of range: data.yaml defines {nc} "
                f"class{'es' if nc != 1 else ''} (0-{nc - 1})",
                line=line,
                field="class",
                hint="fix the class id or add the class to names"
                + (" (ids are 0-based)" if cid == nc else ""),
            )
        )
        return

    checked = cols[1:5] if is_kpt else cols[1:]
    values: list[float] = []
    for i, tok in enumerate(checked, start=2):
        v = _number(tok)
        if v is None or not math.isfinite(v):
            result.add(
                error(
                    path,
                    f"column {i} is {quote(tok)}, not a finite number",
                    line=line,
                    hint="every coordinate must be a number in [0, 1]",
                )
            )
            return
        values.append(v)
    hi, lo = max(values), min(values)
    problem = _range_problem(path, line, kind, values)
    if problem is not None:
        result.add(problem)
        return
    if hi > 1 or lo < 0:
        result.notes["clipped"] += 1  # within Ultralytics' 1% tolerance: it clips them
    if kind == "box" and (values[2] == 0 or values[3] == 0):
        result.notes["zero_size"] += 1
    if kind == "box":
        result.box_rows += 1
    else:
        result.segment_rows += 1
    result.instances[cid] += 1


def _range_problem(path: str, line: int, kind: str, values: list[float]) -> Finding | None:
    """Coordinates outside [0, 1] beyond the tolerance, or a negative box size."""
    hi, lo = max(values), min(values)
    if hi > _HIGH or lo < _LOW:
        pixel = hi > _HIGH and lo >= 0 and hi >= 2
        hint = (
            "these look like pixel coordinates; YOLO needs them normalised: divide x and width "
            "by the image width, y and height by the image height"
            if pixel
            else "coordinates must lie in [0, 1] (normalised to the image size)"
        )
        bad = hi if hi > _HIGH else lo
        return error(path, f"coordinate {bad:.8g} is outside [0, 1]", line=line, hint=hint)
    if kind == "box" and (values[2] < 0 or values[3] < 0):
        # The tolerance is for positions, never for sizes: Ultralytics drops the image.
        return error(
            path,
            f"has a negative {'width' if values[2] < 0 else 'height'}",
            line=line,
            hint="width and height are sizes in [0, 1]: 'class cx cy w h'",
        )
    return None


def summarize_notes(notes: Counter[str], split: str) -> list[Finding]:
    """Turn counted per-row oddities into one warning each."""
    texts = {
        "duplicate": ("duplicate label row(s); Ultralytics removes them", "delete the repeats"),
        "clipped": ("coordinate(s) slightly outside [0, 1]; Ultralytics clips them", ""),
        "zero_size": ("box(es) with zero width or height", "delete or fix those rows"),
    }
    out = []
    for key, (text, hint) in texts.items():
        if notes.get(key):
            out.append(warning(f"labels ({split})", f"{notes[key]} {text}", hint=hint))
    return out
