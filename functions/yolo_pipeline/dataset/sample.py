"""A tiny, learnable synthetic YOLO detection dataset (squares, circles, triangles).

Used by the training tests, `make demo` (``yolo-pipeline sample-dataset DIR``) and other tests.
It needs numpy and Pillow (the training stack); the Lambdas never import it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import yaml
from PIL import Image, ImageDraw

CLASS_NAMES: tuple[str, ...] = ("square", "circle", "triangle")
# Ultralytics train arguments that learn this dataset on 2 CPU cores in about a minute: a
# from-scratch yolo11n (no weights to download), small images, no mosaic, a short warmup
# (mAP50 ~0.65 at 15 epochs, ~0.99 at 30). One definition for the training tests, the
# benchmark and `sample-dataset`.
CPU_TRAIN_ARGS: dict[str, Any] = {
    "model": "yolo11n.yaml",
    "imgsz": 160,
    "batch": 8,
    "nbs": 8,
    "mosaic": 0.0,
    "warmup_epochs": 1,
    "amp": False,
    "plots": False,
}


def _overlaps(box: tuple[int, int, int, int], boxes: list[tuple[int, int, int, int]]) -> bool:
    x0, y0, x1, y1 = box
    return any(x0 < b[2] and b[0] < x1 and y0 < b[3] and b[1] < y1 for b in boxes)


def _draw_image(
    rng: np.random.Generator, imgsz: int
) -> tuple[Image.Image, list[tuple[int, float, float, float, float]]]:
    """One noisy image with 1-3 non-overlapping shapes, and its normalised YOLO label rows."""
    base = rng.integers(60, 190, size=3)
    noise = rng.normal(0, 18, size=(imgsz, imgsz, 3))
    pixels = np.clip(base + noise, 0, 255).astype(np.uint8)
    image = Image.fromarray(pixels, "RGB")
    draw = ImageDraw.Draw(image)
    rows: list[tuple[int, float, float, float, float]] = []
    boxes: list[tuple[int, int, int, int]] = []
    for _ in range(int(rng.integers(1, 4))):
        for _attempt in range(20):  # find a free spot; skip the shape when the image is full
            size = int(rng.integers(imgsz // 6, imgsz // 3))
            x0 = int(rng.integers(2, imgsz - size - 2))
            y0 = int(rng.integers(2, imgsz - size - 2))
            box = (x0, y0, x0 + size, y0 + size)
            if not _overlaps(box, boxes):
                break
        else:
            continue
        boxes.append(box)
        cls = int(rng.integers(0, len(CLASS_NAMES)))
        # Saturated colours far from the grey background keep the task easy to learn.
        colour = tuple(int(c) for c in rng.permutation([int(rng.integers(200, 256)), 30, 0]))
        x1, y1 = box[2], box[3]
        if cls == 0:
            draw.rectangle(box, fill=colour)
        elif cls == 1:
            draw.ellipse(box, fill=colour)
        else:
            draw.polygon([(x0, y1), (x1, y1), ((x0 + x1) / 2, y0)], fill=colour)
        cx, cy = (x0 + x1) / 2 / imgsz, (y0 + y1) / 2 / imgsz
        rows.append((cls, cx, cy, (x1 - x0) / imgsz, (y1 - y0) / imgsz))
    return image, rows


def make_shapes_dataset(
    root: Path, n_train: int = 64, n_val: int = 16, imgsz: int = 160, seed: int = 0
) -> Path:
    """Write ``images/{train,val}``, ``labels/{train,val}`` and ``data.yaml`` under ``root``.

    Deterministic for a given seed. ``data.yaml`` uses paths relative to its own folder and has
    no ``path`` key, so the dataset can be moved or uploaded as is. Returns the data.yaml path.
    """
    root = Path(root)
    rng = np.random.default_rng(seed)
    for split, count in (("train", n_train), ("val", n_val)):
        images = root / "images" / split
        labels = root / "labels" / split
        images.mkdir(parents=True, exist_ok=True)
        labels.mkdir(parents=True, exist_ok=True)
        for i in range(count):
            image, rows = _draw_image(rng, imgsz)
            stem = f"{split}_{i:04d}"
            image.save(images / f"{stem}.jpg", quality=95)
            text = "".join(f"{c} {x:.6f} {y:.6f} {w:.6f} {h:.6f}\n" for c, x, y, w, h in rows)
            (labels / f"{stem}.txt").write_text(text, encoding="utf-8")
    data_yaml = root / "data.yaml"
    config = {
        "train": "images/train",
        "val": "images/val",
        "nc": len(CLASS_NAMES),
        "names": list(CLASS_NAMES),
    }
    data_yaml.write_text(yaml.safe_dump(config, sort_keys=False), encoding="utf-8")
    return data_yaml
