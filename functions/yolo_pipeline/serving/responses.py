"""Ultralytics ``Results`` -> the JSON answer for one image, per task.

Every answer has ``task``, ``names`` (class names, indexed by class id), ``width``, ``height``
and ``objects``: per object ``class_id``, ``name``, ``confidence`` and ``box``
(``[x1, y1, x2, y2]`` in pixels of the image sent). The tasks add:

- segment: ``polygon`` per object (``[[x, y], ...]`` pixels);
- pose: ``keypoints`` per object (``[[x, y, visibility], ...]``; visibility is null when the
  model has none);
- obb: ``rotated_box`` per object (``{"cx", "cy", "w", "h", "angle"}``, angle in radians)
  and ``corners`` (4 points); ``box`` is the rotated box's axis-aligned bounds;
- classify: ``top5`` (``class_id``, ``name``, ``confidence``) and no objects;
- semantic: ``classes`` (``class_id``, ``name``, ``pixel_ratio``) and ``mask``, a base64 PNG of
  class ids (8-bit, 16-bit above 255 classes) at the image's size;
- depth: ``depth`` with ``min``, ``max``, ``mean``, ``median`` (metres) and ``png``, a base64
  16-bit PNG of millimetres at the image's size.

Only the results' tensors are read; the figures are Ultralytics' own, rounded.
"""

from __future__ import annotations

import base64
import io
from collections.abc import Mapping
from typing import Any

import numpy as np
from PIL import Image

PIXEL_DECIMALS = 2
CONFIDENCE_DECIMALS = 5


def _array(value: Any) -> np.ndarray:
    """A tensor or array as a NumPy array on the host."""
    if hasattr(value, "cpu"):
        value = value.cpu()
    if hasattr(value, "numpy"):
        value = value.numpy()
    return np.asarray(value)


def _pixels(values: Any) -> list[Any]:
    rounded: list[Any] = np.round(_array(values).astype(float), PIXEL_DECIMALS).tolist()
    return rounded


def class_names(names: Mapping[int, str]) -> list[str]:
    """Ultralytics' ``{id: name}`` as a list indexed by id (gaps become ``"class<id>"``)."""
    count = max(names, default=-1) + 1
    return [str(names.get(i, f"class{i}")) for i in range(count)]


def _objects(boxes: Any, names: list[str]) -> list[dict[str, Any]]:
    xyxy = _pixels(boxes.xyxy)
    classes = _array(boxes.cls).astype(int).tolist()
    confidences = _array(boxes.conf).astype(float).round(CONFIDENCE_DECIMALS).tolist()
    return [
        {
            "class_id": class_id,
            "name": names[class_id] if 0 <= class_id < len(names) else f"class{class_id}",
            "confidence": confidence,
            "box": box,
        }
        for class_id, confidence, box in zip(classes, confidences, xyxy, strict=True)
    ]


def _add_polygons(objects: list[dict[str, Any]], masks: Any) -> None:
    for item, polygon in zip(objects, masks.xy, strict=True):
        item["polygon"] = _pixels(polygon)


def _add_keypoints(objects: list[dict[str, Any]], keypoints: Any) -> None:
    xy = _pixels(keypoints.xy)
    visible = (
        _array(keypoints.conf).astype(float).round(CONFIDENCE_DECIMALS).tolist()
        if getattr(keypoints, "has_visible", False) and keypoints.conf is not None
        else None
    )
    for i, item in enumerate(objects):
        item["keypoints"] = [
            [x, y, visible[i][k] if visible is not None else None] for k, (x, y) in enumerate(xy[i])
        ]


def _add_rotation(objects: list[dict[str, Any]], obb: Any) -> None:
    xywhr = np.round(_array(obb.xywhr).astype(float), 4).tolist()
    corners = _pixels(obb.xyxyxyxy)
    for item, (cx, cy, w, h, angle), points in zip(objects, xywhr, corners, strict=True):
        item["rotated_box"] = {"cx": cx, "cy": cy, "w": w, "h": h, "angle": angle}
        item["corners"] = points


def _png(array: np.ndarray) -> str:
    buffer = io.BytesIO()
    Image.fromarray(array).save(buffer, format="PNG", optimize=False)
    return base64.b64encode(buffer.getvalue()).decode("ascii")


def _semantic(mask: Any, names: list[str]) -> dict[str, Any]:
    ids = _array(mask.data)
    ids = ids[0] if ids.ndim == 3 else ids
    values, counts = np.unique(ids, return_counts=True)
    classes = [
        {"class_id": int(v), "name": names[int(v)], "pixel_ratio": round(int(c) / ids.size, 5)}
        for v, c in zip(values.tolist(), counts.tolist(), strict=True)
        if 0 <= int(v) < len(names)  # 255 and other ids outside the names: "ignore"
    ]
    dtype = np.uint8 if ids.max(initial=0) <= 255 else np.uint16
    return {"classes": classes, "mask": _png(ids.astype(dtype))}


def _depth(depth: Any) -> dict[str, Any]:
    metres = _array(depth.data).astype(np.float64)
    metres = metres[0] if metres.ndim == 3 else metres
    finite = metres[np.isfinite(metres)]
    if not finite.size:
        return {"min": None, "max": None, "mean": None, "median": None, "png": None}
    millimetres = np.clip(np.nan_to_num(metres * 1000.0), 0, 65535).astype(np.uint16)
    return {
        "min": round(float(finite.min()), 4),
        "max": round(float(finite.max()), 4),
        "mean": round(float(finite.mean()), 4),
        "median": round(float(np.median(finite)), 4),
        "png": _png(millimetres),
    }


def _top5(probs: Any, names: list[str]) -> list[dict[str, Any]]:
    ids = [int(i) for i in probs.top5]
    confidences = _array(probs.top5conf).astype(float).round(CONFIDENCE_DECIMALS).tolist()
    return [
        {"class_id": i, "name": names[i], "confidence": c}
        for i, c in zip(ids, confidences, strict=True)
    ]


def image_answer(result: Any, task: str) -> dict[str, Any]:
    """The JSON-ready answer for one Ultralytics ``Results`` of a ``task`` model."""
    names = class_names(result.names)
    height, width = (int(v) for v in result.orig_shape)
    answer: dict[str, Any] = {"task": task, "names": names, "width": width, "height": height}
    obb = getattr(result, "obb", None)
    boxes = obb if obb is not None else result.boxes
    objects = _objects(boxes, names) if boxes is not None else []
    if objects and getattr(result, "masks", None) is not None:
        _add_polygons(objects, result.masks)
    if objects and getattr(result, "keypoints", None) is not None:
        _add_keypoints(objects, result.keypoints)
    if objects and obb is not None:
        _add_rotation(objects, obb)
    answer["objects"] = objects
    if getattr(result, "probs", None) is not None:
        answer["top5"] = _top5(result.probs, names)
    if getattr(result, "semantic_mask", None) is not None:
        answer.update(_semantic(result.semantic_mask, names))
    if getattr(result, "depth", None) is not None:
        answer["depth"] = _depth(result.depth)
    return answer
