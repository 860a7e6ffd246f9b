"""Depth estimation: one depth map per image, as Ultralytics' ``DepthDataset`` and
``verify_image_depth`` read it.

data.yaml: ``train``, ``val``, ``nc: 1``, ``names: {0: depth}``, ``depth_scale`` (default 1000:
a 16-bit PNG value / scale = metres; 0 = no data) and an optional ``max_depth``. Each image's
target replaces the last ``images`` folder of its path with ``depth`` and takes ``.png``
(a 16-bit grayscale PNG), else ``.npy`` (a 2-D float array, metres). Its aspect ratio is the
image's within 2%.

A .npy is never loaded: its header is parsed as a literal and checked against the file's
size (npy.py); a PNG's header gives its size and bit depth, and its pixel data is inflated
within the size the header promises (png.py).
"""

from __future__ import annotations

import math
from typing import Any

from yolo_pipeline.dataset.data_yaml import DataYaml
from yolo_pipeline.dataset.validation.index import ListingIndex
from yolo_pipeline.dataset.validation.tasks import npy, png
from yolo_pipeline.dataset.validation.tasks.semantic import MAX_MASK_PIXELS, MaskResult
from yolo_pipeline.findings import Finding, error, warning

DEFAULT_DEPTH_SCALE = 1000
MAX_ASPECT_LOG_RATIO = 0.02  # verify_image_depth's tolerance


def depth_path(image: str, index: ListingIndex) -> str:
    """Ultralytics' ``_depth_path_for``: the last ``images`` folder becomes ``depth``; the
    ``.png`` when it exists, else the ``.npy``."""
    parts = image.split("/")
    for i in range(len(parts) - 2, -1, -1):
        if parts[i] == "images":
            parts[i] = "depth"
            break
    stem = "/".join(parts).rsplit(".", 1)[0]
    return stem + ".png" if stem + ".png" in index.by_path else stem + ".npy"


def check_depth_keys(config: DataYaml, file: str) -> list[Finding]:
    out: list[Finding] = []
    scale = config.extras.get("depth_scale", DEFAULT_DEPTH_SCALE)
    if not _positive(scale):
        out.append(
            error(
                file,
                f"is {str(scale)[:40]!r}; depth_scale must be a positive finite number",
                field="depth_scale",
                hint="the number a 16-bit PNG value is divided by to give metres, e.g. 1000",
            )
        )
    if "max_depth" in config.extras and not _positive(config.extras["max_depth"]):
        out.append(
            error(
                file,
                "must be a positive number of metres",
                field="max_depth",
                hint="e.g. max_depth: 10 for indoor scenes, or leave it out (100)",
            )
        )
    if config.nc != 1:
        out.append(
            warning(
                file,
                f"lists {config.nc} classes; a depth dataset has one",
                field="names",
                hint="names: {0: depth}",
            )
        )
    return out


def _positive(value: Any) -> bool:
    return (
        isinstance(value, int | float)
        and not isinstance(value, bool)
        and math.isfinite(value)
        and value > 0
    )


def read_depth(path: str, data: bytes, size: int) -> MaskResult:
    """A depth map's (height, width), or why Ultralytics would drop its image."""
    if path.endswith(".npy"):
        try:
            return MaskResult(npy.check_depth_npy(data[: npy.MAX_HEADER_BYTES + 16], size))
        except npy.NpyError as exc:
            return MaskResult(
                problem=str(exc), hint="save it with numpy.save(path, depth.astype('float32'))"
            )
    try:
        header = png.read_header(data)
    except png.PngError as exc:
        return MaskResult(problem=str(exc), hint="save a 16-bit grayscale PNG")
    found = (header.height, header.width)
    if header.color_type != png.GRAY or header.bit_depth != 16:
        return MaskResult(
            found,
            problem="must be an integer grayscale PNG (16-bit, one channel), not "
            f"{header.bit_depth}-bit colour type {header.color_type}",
            hint="save metres x depth_scale as a 16-bit PNG (cv2.imwrite of a uint16 array)",
        )
    if header.pixels > MAX_MASK_PIXELS:
        return MaskResult(
            found,
            problem=f"is {header.width}x{header.height} pixels; the limit is "
            f"{MAX_MASK_PIXELS / 1e6:.0f} megapixels",
            hint="resize the image and its depth map",
        )
    try:
        png.check_pixel_data(data, header)
    except png.PngError as exc:
        return MaskResult(found, problem=str(exc), hint="save the depth map again")
    return MaskResult(found)


def aspect_problem(depth: tuple[int, int], image: tuple[int, int]) -> str:
    """verify_image_depth's rule: the aspect ratios agree within 2%."""
    ratio = (depth[1] / depth[0]) / (image[1] / image[0])
    if abs(math.log(ratio)) <= MAX_ASPECT_LOG_RATIO:
        return ""
    return f"depth map shape {depth} does not match image shape {image}"
