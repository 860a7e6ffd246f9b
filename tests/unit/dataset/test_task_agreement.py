"""The validator and Ultralytics agree on classify, semantic and depth datasets: generated
cases checked through Ultralytics' own checks (check_cls_dataset, verify_image_mask,
verify_image_depth) and through ours, file by file.

Where we are stricter on purpose (a colour mask, read by OpenCV as grey levels), the case
is left out here and tested in test_task_datasets.py."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from tests.support.dataset_factory import write_local
from tests.support.task_files import (
    classify_files,
    depth_files,
    npy_bytes,
    png_bytes,
    rgb_image,
    semantic_files,
)
from yolo_pipeline.dataset.validation import validate_location

utils = pytest.importorskip("ultralytics.data.utils")

MASK_CASES = {
    "valid": png_bytes(16, 16, lambda x, y: x % 3),
    "ignore-255": png_bytes(16, 16, lambda x, y: 255 if y else 2, filters=(4,)),
    "id-past-nc": png_bytes(16, 16, lambda x, y: 3),
    "other-size": png_bytes(16, 12),
    "sixteen-bit-300": png_bytes(16, 16, lambda x, y: 300, depth=16),
    "voc-palette": png_bytes(
        16, 16, lambda x, y: 2, color=3, palette=[(0, 0, 0), (9, 0, 0), (0, 9, 0)]
    ),
    "voc-palette-past-nc": png_bytes(
        16, 16, lambda x, y: 5, color=3, palette=[(i, 0, 0) for i in range(8)]
    ),
    "grey-palette": png_bytes(
        16, 16, lambda x, y: 1, color=3, palette=[(i, i, i) for i in range(8)]
    ),
    "binary-1bit": png_bytes(16, 16, lambda x, y: x % 2, depth=1),
}


def _ultralytics_mask_ok(root: Path, mask: str, nc: int) -> bool:
    lut = np.arange(256, dtype=np.uint8)
    invalid = ((lut > max(nc - 1, 1)) & (lut != 255)).astype(np.uint8)
    image = str(root / "images" / "train" / "0.png")
    result = utils.verify_image_mask((image, str(root / mask), "", invalid))
    return result[5] == 1  # nf: found and valid


@pytest.mark.parametrize("case", sorted(MASK_CASES))
def test_masks_agree(tmp_path: Path, case: str) -> None:
    files = semantic_files(nc=3)
    files["masks/train/0.png"] = MASK_CASES[case]
    root = write_local(tmp_path / "ds", files)
    ours = validate_location(str(root))
    flagged = any(f.file == "masks/train/0.png" for f in ours.errors)
    assert flagged == (not _ultralytics_mask_ok(root, "masks/train/0.png", 3)), [
        str(f) for f in ours.errors
    ]


DEPTH_CASES = {
    "png16": ("0.png", png_bytes(16, 16, lambda x, y: 900, depth=16)),
    "png16-scaled": ("0.png", png_bytes(32, 32, lambda x, y: 900, depth=16)),
    "png8": ("0.png", png_bytes(16, 16, lambda x, y: 9)),
    "png16-wide": ("0.png", png_bytes(32, 16, depth=16)),
    "npy": ("0.npy", npy_bytes((16, 16))),
    "npy-f8": ("0.npy", npy_bytes((16, 16), "<f8")),
    "npy-pickle": ("0.npy", npy_bytes((16, 16), "|O", b"\x80\x04N.")),
    "npy-3d": ("0.npy", npy_bytes((16, 16, 1))),
    "npy-int": ("0.npy", npy_bytes((16, 16), "<i4")),
    "npy-lying": ("0.npy", npy_bytes((400, 400), body=bytes(64))),
}


@pytest.mark.parametrize("case", sorted(DEPTH_CASES))
def test_depth_maps_agree(tmp_path: Path, case: str) -> None:
    name, content = DEPTH_CASES[case]
    files = depth_files()
    del files["depth/train/0.png"]
    files[f"depth/train/{name}"] = content
    root = write_local(tmp_path / "ds", files)
    ours = validate_location(str(root))
    flagged = any(f.file == f"depth/train/{name}" for f in ours.errors)
    image = str(root / "images" / "train" / "0.png")
    theirs = utils.verify_image_depth((image, str(root / "depth/train" / name), "", 1000))
    assert flagged == (theirs[2] != 1), ([str(f) for f in ours.errors], theirs[-1])


def test_class_names_agree_with_check_cls_dataset(tmp_path: Path) -> None:
    files = classify_files(("zebra", "ant", "Moth"))
    files["train/readme.png"] = rgb_image()  # a loose image: not a class
    root = write_local(tmp_path / "ds", files)
    ours = validate_location(str(root))
    theirs = utils.check_cls_dataset(str(root))
    assert list(ours.stats.names) == list(theirs["names"].values())
    assert ours.stats.classes == theirs["nc"]
