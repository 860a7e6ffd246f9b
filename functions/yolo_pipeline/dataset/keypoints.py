"""data.yaml's pose keys, checked as Ultralytics uses them.

``kpt_shape: [k, d]`` is read by every Ultralytics dataset (``nkpt, ndim = kpt_shape``), and
a pose dataset needs k > 0 and d of 2 (x y) or 3 (x y visible). ``flip_idx`` must list k
keypoint indices, or pose training fails in its transforms ("flip_idx length must be equal
to kpt_shape[0]"); without it Ultralytics turns horizontal and vertical flips off. Other
tasks ignore flip_idx, so its fit is checked under pose only.
"""

from __future__ import annotations

from typing import Any

from yolo_pipeline.findings import Finding, error

POSE_KEYS = frozenset({"kpt_shape", "flip_idx"})


def kpt_shape_of(extras: dict[str, Any]) -> tuple[int, int] | None:
    """``(k, d)`` when data.yaml has a usable ``kpt_shape``, else None."""
    kpt = extras.get("kpt_shape")
    if (
        isinstance(kpt, list)
        and len(kpt) == 2
        and all(isinstance(x, int) and not isinstance(x, bool) for x in kpt)
        and kpt[0] > 0
        and kpt[1] in (2, 3)
    ):
        return int(kpt[0]), int(kpt[1])
    return None


def check_keypoint_keys(extras: dict[str, Any], lines: dict[str, int], file: str) -> list[Finding]:
    """Errors for a malformed ``kpt_shape``, or a ``flip_idx`` that is not a list (Ultralytics'
    ``check_det_dataset`` refuses that for every task). Whether flip_idx fits kpt_shape
    matters to pose only: ``check_flip_idx``, once the task is known."""
    flip = extras.get("flip_idx")
    if flip is not None and not isinstance(flip, list):
        return [_flip_error("is not a list", lines.get("flip_idx"), file, None)]
    if "kpt_shape" not in extras:
        return []
    shape = kpt_shape_of(extras)
    if shape is None:
        return [
            error(
                file,
                f"{str(extras['kpt_shape'])[:40]!r} is not [keypoints, dims]",
                line=lines.get("kpt_shape"),
                field="kpt_shape",
                hint="e.g. kpt_shape: [17, 3] (17 keypoints of x, y, visible); dims is 2 or 3",
            )
        ]
    return []


def check_flip_idx(extras: dict[str, Any], line: int | None, file: str) -> list[Finding]:
    """Under pose: ``flip_idx`` must list kpt_shape's k keypoint indices. Other tasks never
    read it (Ultralytics' pose dataset alone does), so they do not call this."""
    flip = extras.get("flip_idx")
    shape = kpt_shape_of(extras)
    if shape is None or flip is None or flip == [] or not isinstance(flip, list):
        return []  # kpt_shape's own error, no flip_idx, or the type error already given
    k = shape[0]
    ok = all(isinstance(i, int) and not isinstance(i, bool) and 0 <= i < k for i in flip)
    if ok and len(flip) == k:
        return []
    if ok:
        message = f"has {len(flip)} entries; kpt_shape has {k} keypoints, so it needs {k}"
    else:
        message = f"holds values that are not keypoint indices 0-{k - 1}"
    return [_flip_error(message, line, file, k)]


def _flip_error(message: str, line: int | None, file: str, k: int | None) -> Finding:
    return error(
        file,
        message,
        line=line,
        field="flip_idx",
        hint="flip_idx[i] is the keypoint that keypoint i becomes in a mirrored image "
        f"(e.g. left eye <-> right eye); list all {k or 'k'}, or remove flip_idx",
    )
