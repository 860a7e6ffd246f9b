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

from yolo_pipeline.findings import Finding, error, warning

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
# Rows read from one label file: a dense aerial image holds a few thousand objects; past
# this a file is refused, so one file costs a bounded time however well it compresses.
MAX_LABEL_ROWS_PER_FILE = 50_000


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
    fails_training: bool = False  # fatal to the whole training, not a dropped image

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


@dataclass(frozen=True)
class _Rules:
    """How rows are read for one task (Ultralytics' ``verify_image_label`` and its dataset)."""

    names: list[str]
    task: str | None  # None: not known yet (inferred from the rows afterwards)
    kpt_cols: int | None  # 5 + k*d when data.yaml has kpt_shape [k, d]
    kpt_dim: int = 2  # d: 2 (x y) or 3 (x y visible)

    @property
    def pose(self) -> bool:
        return self.task == "pose" and self.kpt_cols is not None


def check_label_file(
    path: str,
    content: bytes,
    names: list[str],
    kpt_shape: tuple[int, int] | None = None,
    task: str | None = None,
) -> LabelFileResult:
    """Check every row of one label file by ``task``'s rules; never raises.

    ``task=None`` (not known yet) checks rows as detect/segment do; the validator infers the
    task from what it finds. Pose rows need ``kpt_shape``.
    """
    result = LabelFileResult(path)
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
    rules = _Rules(
        names,
        task,
        5 + kpt_shape[0] * kpt_shape[1] if kpt_shape else None,
        kpt_shape[1] if kpt_shape else 2,
    )
    seen: set[tuple[str, ...]] = set()
    kinds: dict[str, int] = {}  # 'box'/'segment' -> first line
    for lineno, raw in enumerate(text.splitlines(), start=1):
        cols = raw.split()
        if not cols:
            continue
        if result.rows >= MAX_LABEL_ROWS_PER_FILE:
            result.add(
                error(
                    path,
                    f"has more than {MAX_LABEL_ROWS_PER_FILE:,} rows; a label file holds one "
                    "row per object",
                    line=lineno,
                    hint="check it is really a YOLO label file (one per image)",
                )
            )
            break
        result.rows += 1
        _check_row(result, path, lineno, cols, rules, kinds)
        key = tuple(cols)
        if key in seen:
            result.notes["duplicate"] += 1
        seen.add(key)
    _check_file_kinds(result, path, kinds, task)
    return result


def _check_file_kinds(
    result: LabelFileResult, path: str, kinds: dict[str, int], task: str | None
) -> None:
    if "box" in kinds and "segment" in kinds and task != "pose":
        result.add(
            error(
                path,
                f"mixes box rows (line {kinds['box']}) and polygon rows (line {kinds['segment']})",
                hint="use one format per file; Ultralytics drops such a file",
            )
        )
    elif task == "obb" and "box" in kinds and result.ok:
        # Every row is a plain box: no corners reach Ultralytics' OBB format, and the
        # training stops with an error instead of skipping the image (a file with a bad
        # row is skipped before that: its own findings say so).
        result.fails_training = True
        result.add(
            error(
                path,
                f"holds only plain box rows (line {kinds['box']}); an OBB training fails on "
                "such a file, it does not skip it",
                line=kinds["box"],
                hint="write each object as class + 4 corners (class x1 y1 x2 y2 x3 y3 x4 y4), "
                "or train a detect model (task: detect)",
            )
        )
    elif task == "segment" and "box" in kinds:
        # Ultralytics: "Segment dataset requires equal numbers of boxes and segments".
        result.add(
            error(
                path,
                f"holds only boxes (line {kinds['box']}), but a segment model needs a polygon "
                "for every object",
                line=kinds["box"],
                hint="label the objects as polygons ('class x1 y1 x2 y2 x3 y3 ...'), or train "
                "a detect model (task: detect)",
            )
        )


def _row_kind(cols: list[str], rules: _Rules) -> tuple[str | None, str, str]:
    """('box'|'segment'|'pose'|'obb', '', '') or (None, problem, hint) from the columns alone."""
    n = len(cols)
    if (n == 1 and "," in cols[0]) or (n < 5 and any("," in c for c in cols)):
        return None, "values are separated by commas", "separate the values with spaces"
    if rules.pose:
        return _pose_kind(n, rules)
    if n < 5:
        return None, f"has {n} column(s); a box row needs 5 (class cx cy w h)", "complete the row"
    if rules.task == "obb":
        if n == 5:
            return "box", "", ""  # judged per file (_check_file_kinds)
        if n >= 7 and (n - 1) % 2 == 0:
            # 4 corners, or any polygon: Ultralytics takes its minimum-area rectangle.
            return "obb", "", ""
        return (
            None,
            f"has {n} columns; an OBB row is class + 4 corners (9 columns: class x1 y1 ... x4 y4)",
            "write the 4 corner points of each rotated box, normalised to [0, 1]",
        )
    return _plain_kind(n, rules)


def _pose_kind(n: int, rules: _Rules) -> tuple[str | None, str, str]:
    if n == rules.kpt_cols:
        return "pose", "", ""
    cols = f"{rules.kpt_cols} columns: class cx cy w h, then kpt_shape's k x d keypoint values"
    if n == 5:
        return None, f"is a box without keypoints; a pose row has {cols}", "add the keypoints"
    return None, f"has {n} columns; a pose row has {cols}", "match data.yaml's kpt_shape"


def _plain_kind(n: int, rules: _Rules) -> tuple[str | None, str, str]:
    if n == 5 or n == rules.kpt_cols:  # a detect job keeps the box of a pose row
        return "box", "", ""
    if n == 6:
        return (
            None,
            "has 6 columns; a box row has 5 (class cx cy w h)",
            "drop the extra column (a confidence score from exported predictions?)",
        )
    if (n - 1) % 2 and (n - 5) % 3 == 0 and n >= 14 and rules.kpt_cols is None:
        k = (n - 5) // 3
        return (
            None,
            f"has {n} columns, a pose row's shape (class cx cy w h + {k} keypoints x 3), "
            f"but data.yaml has no kpt_shape (as a polygon, {n - 1} coordinates are an odd "
            "number)",
            f"add kpt_shape: [{k}, 3] (and flip_idx) to data.yaml to train pose, or keep "
            "5 columns for a box",
        )
    if (n - 1) % 2:
        return (
            None,
            f"polygon row has {n - 1} coordinates, an odd number",
            "a polygon is class then x y pairs: 'class x1 y1 x2 y2 x3 y3 ...'",
        )
    return "segment", "", ""


def _class_problem(token: str, names: list[str]) -> tuple[int | None, str, str]:
    nc = len(names)
    cls = _number(token)
    if cls is None or not math.isfinite(cls) or cls != int(cls):
        hint = "the first column is the class id (0-based integer)"
        if token in names:
            hint = f"use the class id, not its name: {token} is {names.index(token)}"
        return None, f"class {token!r} is not an integer", hint
    cid = int(cls)
    if not 0 <= cid < nc:
        return (
            None,
            f"class {cid} is out of range: data.yaml defines {nc} "
            f"class{'es' if nc != 1 else ''} (0-{nc - 1})",
            "fix the class id or add the class to names"
            + (" (ids are 0-based)" if cid == nc else ""),
        )
    return cid, "", ""


def _numbers(cols: list[str]) -> tuple[list[float], str]:
    values: list[float] = []
    for i, tok in enumerate(cols, start=2):
        v = _number(tok)
        if v is None or not math.isfinite(v):
            return [], f"column {i} is {tok!r}, not a finite number"
        values.append(v)
    return values, ""


def _checked_points(
    kind: str, values: list[float], kpt_dim: int
) -> tuple[list[float], list[float], bool]:
    """(values held to <= 1.01, values held to >= 0, negative size?) as Ultralytics checks
    them: a box directly; a polygon or OBB through its enclosing box (so points slightly
    outside the image pass: it clips them); pose through its keypoints' x and y (the box and
    visibility only for negatives)."""
    if kind in {"segment", "obb"}:
        xs, ys = values[0::2], values[1::2]
        w, h = max(xs) - min(xs), max(ys) - min(ys)
        box = [(max(xs) + min(xs)) / 2, (max(ys) + min(ys)) / 2, w, h]
        return box, box, False
    negative_size = values[2] < 0 or values[3] < 0
    if kind == "pose":
        xy = [v for i, v in enumerate(values[4:]) if i % kpt_dim < 2]
        return xy, values, negative_size
    return values, values, negative_size


def _check_row(
    result: LabelFileResult,
    path: str,
    line: int,
    cols: list[str],
    rules: _Rules,
    kinds: dict[str, int],
) -> None:
    kind, problem, hint = _row_kind(cols, rules)
    if kind is None:
        result.add(error(path, problem, line=line, hint=hint))
        return
    kinds.setdefault("box" if kind in {"box", "pose"} else "segment", line)
    cid, problem, hint = _class_problem(cols[0], rules.names)
    if cid is None:
        result.add(error(path, problem, line=line, field="class", hint=hint))
        return
    checked = cols[1:5] if kind == "box" and len(cols) != 5 else cols[1:]
    values, problem = _numbers(checked)
    if problem:
        result.add(
            error(path, problem, line=line, hint="every coordinate must be a number in [0, 1]")
        )
        return
    high, low, negative_size = _checked_points(kind, values, rules.kpt_dim)
    if _out_of_range(result, path, line, kind, high, low, negative_size):
        return
    if min(values) < 0 or max(values) > 1:
        result.notes["clipped"] += 1  # Ultralytics clips these
    if kind in {"box", "pose"} and (values[2] <= 0 or values[3] <= 0):
        result.notes["zero_size"] += 1
    if kind in {"box", "pose"}:
        result.box_rows += 1
    else:
        result.segment_rows += 1
    result.instances[cid] += 1


def _out_of_range(
    result: LabelFileResult,
    path: str,
    line: int,
    kind: str,
    high: list[float],
    low: list[float],
    negative_size: bool,
) -> bool:
    """Ultralytics' rule: max <= 1.01, and min >= 0, or >= -0.01 with no negative size."""
    hi = max(high) if high else 0.0
    lo = min(low) if low else 0.0
    if hi <= 1 + TOLERANCE and (lo >= 0 or (lo >= -TOLERANCE and not negative_size)):
        return False
    what = {"segment": "polygon's box", "obb": "rotated box", "pose": "keypoint"}.get(kind, "")
    pixel = hi > 1 + TOLERANCE and lo >= 0 and hi >= 2
    hint = (
        "these look like pixel coordinates; YOLO needs them normalised: divide x and width "
        "by the image width, y and height by the image height"
        if pixel
        else "coordinates must lie in [0, 1] (normalised to the image size)"
    )
    bad = hi if hi > 1 + TOLERANCE else lo
    label = f"{what} coordinate" if what else "coordinate"
    if kind == "pose" and bad == -1 and not negative_size:
        # The COCO-style "unlabelled" mark; Ultralytics refuses any negative in a pose row.
        result.add(
            error(
                path,
                "has a keypoint written as -1 (unlabelled?); Ultralytics drops the image for "
                "any negative value",
                line=line,
                hint="write an unlabelled keypoint as 0 0 0 (x, y, visibility 0), or 0 0 with "
                "2 dims",
            )
        )
    elif negative_size and lo < 0 and hi <= 1 + TOLERANCE and lo >= -TOLERANCE:
        # The tolerance is for positions, never for sizes: Ultralytics drops the image.
        result.add(
            error(
                path,
                "has a negative width or height",
                line=line,
                hint="width and height are sizes in [0, 1]: 'class cx cy w h'",
            )
        )
    else:
        result.add(error(path, f"{label} {bad:g} is outside [0, 1]", line=line, hint=hint))
    return True


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
