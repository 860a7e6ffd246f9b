"""data.yaml's pose keys, checked as Ultralytics uses them.

``kpt_shape: [k, d]`` is read by every Ultralytics dataset (``nkpt, ndim = kpt_shape``), and
a pose dataset needs k > 0 and d of 2 (x y) or 3 (x y visible). ``flip_idx`` must list k
keypoint indices, or pose training fails in its transforms ("flip_idx length must be equal
to kpt_shape[0]"); without it Ultralytics turns horizontal and vertical flips off.
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
    """Errors for a malformed ``kpt_shape`` or a ``flip_idx`` that does not fit it."""
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
    flip = extras.get("flip_idx")
    if flip is None or flip == []:
        return []
    k = shape[0]
    ok = isinstance(flip, list) and all(
        isinstance(i, int) and not isinstance(i, bool) and 0 <= i < k for i in flip
    )
    if ok and len(flip) == k:
        return []
    what = f"has {len(flip)} entries" if isinstance(flip, list) else "is not a list"
    if ok or not isinstance(flip, list):
        message = f"{what}; kpt_shape has {k} keypoints, so it needs {k}"
    else:
        message = f"holds values that are not keypoint indices 0-{k - 1}"
    return [
        error(
            file,
            message,
            line=lines.get("flip_idx"),
            field="flip_idx",
            hint="flip_idx[i] is the keypoint that keypoint i becomes in a mirrored image "
            f"(e.g. left eye <-> right eye); list all {k}, or remove flip_idx",
        )
    ]
