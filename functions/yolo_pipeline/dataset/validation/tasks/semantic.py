"""Semantic segmentation: one PNG of class ids per image, as Ultralytics' ``SemanticDataset``
and ``verify_image_mask`` read it.

data.yaml: ``train``, ``val``, ``names``, ``masks_dir`` (default ``masks`` when that folder
exists) and an optional ``label_mapping`` (raw id -> train id; ``ignore_label`` or 255 =
ignore). Each image's mask replaces the last ``/images/`` of its path with
``/<masks_dir>/`` and takes ``.png`` (another image suffix when no .png exists). Every pixel
is a class id below nc, or 255; the mask is the image's size.

Masks are read within bounds: the size from the header first (a 100-megapixel mask is
refused unread), the pixels through a bounded inflate (png.py).
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from yolo_pipeline.dataset.data_yaml import DataYaml
from yolo_pipeline.dataset.labels import IMG_FORMATS
from yolo_pipeline.dataset.validation.index import ListingIndex
from yolo_pipeline.dataset.validation.tasks import png
from yolo_pipeline.findings import Finding, error
from yolo_pipeline.text import quote

IGNORE = 255
MAX_MASK_PIXELS = 32 * 1024 * 1024  # 32 megapixels: larger masks are refused unread
MAX_MASK_BYTES = 64 * 1024 * 1024
DEFAULT_MASKS_DIR = "masks"


@dataclass(frozen=True)
class MaskResult:
    """One mask: its size (height, width) and the raw ids in it, or the problem;
    ``ids_checked`` is False when the pixel budget was spent (header and data still checked)."""

    size: tuple[int, int] | None = None
    ids: frozenset[int] = frozenset()
    problem: str = ""
    hint: str = ""
    ids_checked: bool = True


class PixelBudget:
    """How many mask pixels one check undoes in Python (about 0.2 us each): past it, masks
    are still checked by header and bounded inflate, and training checks their ids."""

    def __init__(self, pixels: int = 400_000_000) -> None:
        self.left = pixels
        self._lock = threading.Lock()

    def take(self, pixels: int) -> bool:
        with self._lock:
            if pixels > self.left:
                return False
            self.left -= pixels
            return True


def masks_dir(config: DataYaml, index: ListingIndex) -> str | None:
    """``masks_dir`` from data.yaml, else ``masks`` when that folder exists (Ultralytics'
    default); None: no masks, so polygon labels are rasterised."""
    value = config.extras.get("masks_dir")
    if isinstance(value, str) and value.strip():
        return value.strip().strip("/")
    return DEFAULT_MASKS_DIR if index.has_folder(DEFAULT_MASKS_DIR) else None


def mask_candidates(image: str, folder: str) -> list[str]:
    """The mask paths Ultralytics tries for ``image``: ``.png`` first, then other suffixes."""
    full = "/" + image
    swapped = f"/{folder}/".join(full.rsplit("/images/", 1))[1:]
    stem = swapped.rsplit(".", 1)[0]
    return [stem + ".png", *(f"{stem}.{ext}" for ext in sorted(IMG_FORMATS) if ext != "png")]


def find_mask(image: str, folder: str, index: ListingIndex) -> str | None:
    for candidate in mask_candidates(image, folder):
        if candidate in index.by_path:
            return candidate
    return None


def parse_label_mapping(raw: Any, nc: int, file: str) -> tuple[dict[int, int], list[Finding]]:
    """label_mapping as Ultralytics normalises it (``ignore_label`` and null are 255), and a
    finding for each entry that maps outside the classes."""
    if raw is None:
        return {}, []
    if not isinstance(raw, Mapping):
        return {}, [
            error(
                file,
                f"must be a mapping of raw id to class id, not {type(raw).__name__} (Ultralytics: "
                "Expected 'label_mapping' to be a dict in dataset YAML)",
                field="label_mapping",
                hint="label_mapping: {7: 0, 8: 1, 0: ignore_label}",
            )
        ]
    mapping: dict[int, int] = {}
    problems: list[Finding] = []
    highest = max(nc - 1, 1)
    for src, dst in list(raw.items())[:1024]:
        value = _mapped(dst)
        key = _int(src)
        if key is None or value is None:
            problems.append(
                error(
                    file,
                    f"entry {quote(str(src), 20)}: {quote(str(dst), 20)} is not an id",
                    field="label_mapping",
                    hint="map integer ids to class ids or ignore_label",
                )
            )
            continue
        if value != IGNORE and not 0 <= value <= highest:
            problems.append(
                error(
                    file,
                    f"maps {key} to {value}, outside the {nc} classes (0-{nc - 1}) and not 255",
                    field="label_mapping",
                    hint=f"map to a class id below {nc}, or to ignore_label",
                )
            )
            continue
        mapping[key] = value
    return mapping, problems


def _int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    try:
        return int(str(value).strip())
    except ValueError:
        return None


def _mapped(value: Any) -> int | None:
    if value is None or (isinstance(value, str) and value.strip() == "ignore_label"):
        return IGNORE
    return _int(value)


def invalid_ids(ids: frozenset[int], mapping: Mapping[int, int], nc: int) -> list[int]:
    """The raw ids that map to neither a class nor 255 (Ultralytics' ``invalid`` table: nc=1
    keeps 0 and 1). Ids above 255 never fit Ultralytics' 8-bit table."""
    highest = max(nc - 1, 1)
    bad = []
    for raw in sorted(ids):
        if raw > 255:
            bad.append(raw)
            continue
        value = mapping.get(raw, raw)
        if value != IGNORE and value > highest:
            bad.append(raw)
    return bad


def read_mask(data: bytes, budget: PixelBudget | None = None) -> MaskResult:
    """Size and raw ids of one mask, as Ultralytics' ``read_mask`` decodes it."""
    try:
        header = png.read_header(data)
    except png.PngError as exc:
        return MaskResult(problem=str(exc), hint="save each mask as a single-channel PNG")
    size = (header.height, header.width)
    if header.pixels > MAX_MASK_PIXELS:
        return MaskResult(
            size,
            problem=f"is {header.width}x{header.height} pixels ({header.pixels / 1e6:.0f} "
            f"megapixels); the limit is {MAX_MASK_PIXELS / 1e6:.0f}",
            hint="resize the image and its mask (nearest neighbour for the mask)",
        )
    if header.color_type not in (png.GRAY, png.PALETTE):
        return MaskResult(
            size,
            problem="is a colour PNG: OpenCV reads it as grey levels, not class ids",
            hint="save each mask as a single-channel (grayscale or palette) PNG of class ids",
        )
    if header.color_type == png.GRAY and header.bit_depth in (2, 4):
        return MaskResult(
            size,
            problem=f"is a {header.bit_depth}-bit grayscale PNG: OpenCV scales its values to "
            "0-255, so the class ids change",
            hint="save it as an 8-bit grayscale PNG",
        )
    if header.interlaced:
        return MaskResult(size, problem="is an interlaced PNG", hint="save it non-interlaced")
    try:
        if budget is not None and not budget.take(header.pixels):
            png.check_pixel_data(data, header)
            return MaskResult(size, ids_checked=False)
        values = png.sample_values(data, header)
        ids = _decoded_ids(values, header, data)
    except png.PngError as exc:
        return MaskResult(size, problem=str(exc), hint="save the mask again as a PNG")
    return MaskResult(size, frozenset(ids))


def _decoded_ids(values: set[int], header: png.PngHeader, data: bytes) -> set[int]:
    if header.color_type == png.GRAY and header.bit_depth == 1:
        return values  # OpenCV's 0/255, divided by 255 again: 0 and 1
    if header.color_type == png.PALETTE:
        colours = png.palette(data) or []
        if colours and all(r == g == b for r, g, b in colours):  # a gray palette: gray levels
            return {colours[v][0] if v < len(colours) else 0 for v in values}
    return values
