"""A server's answer for one image as readable lines (``yolo-pipeline predict``, the demo).

Pure and standard-library only. Names come from the model's (user-chosen) class names and
reach the terminal through ``text.clean``.
"""

from __future__ import annotations

from typing import Any

from yolo_pipeline.text import clean

MAX_ROWS = 50  # a terminal table, not a dump: --json has everything


def _box(box: Any) -> str:
    try:
        return "[" + ", ".join(f"{float(v):.1f}" for v in box) + "]"
    except (TypeError, ValueError):
        return "-"


def _objects(prediction: dict[str, Any]) -> list[str]:
    objects = prediction.get("objects") or []
    rows = [f"  {'CLASS':<20} {'CONF':>6}  BOX [x1, y1, x2, y2] px"]
    for item in objects[:MAX_ROWS]:
        extra = ""
        if "keypoints" in item:
            extra = f"  {len(item['keypoints'])} keypoints"
        elif "polygon" in item:
            extra = f"  polygon of {len(item['polygon'])} points"
        elif "rotated_box" in item:
            extra = f"  angle {float(item['rotated_box'].get('angle', 0.0)):.2f} rad"
        name = clean(str(item.get("name", "")), 20)
        rows.append(
            f"  {name:<20} {float(item.get('confidence', 0)):>6.3f}  {_box(item.get('box'))}{extra}"
        )
    if len(objects) > MAX_ROWS:
        rows.append(f"  ... and {len(objects) - MAX_ROWS} more (--json shows all)")
    return rows


def prediction_lines(label: str, prediction: dict[str, Any]) -> list[str]:
    """A heading and a small table for one image's answer."""
    task = clean(str(prediction.get("task", "?")), 20)
    size = f"{prediction.get('width', '?')}x{prediction.get('height', '?')}"
    objects = prediction.get("objects") or []
    lines = [f"{clean(label, 200)} ({size}, {task}): {len(objects)} object(s)"]
    if objects:
        lines += _objects(prediction)
    for item in prediction.get("top5") or []:
        lines.append(
            f"  {clean(str(item.get('name', '')), 30):<30} {float(item['confidence']):.3f}"
        )
    for item in prediction.get("classes") or []:
        name = clean(str(item.get("name", "")), 30)
        lines.append(f"  {name:<30} {float(item['pixel_ratio']):.1%} of pixels")
    depth = prediction.get("depth")
    if isinstance(depth, dict) and depth.get("min") is not None:
        lines.append(
            f"  depth {depth['min']:.2f} to {depth['max']:.2f} m, median {depth['median']:.2f} m"
        )
    return lines
