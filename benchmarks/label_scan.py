#!/usr/bin/env python3
"""Time the pre-training image scan that train.py no longer runs.

    .venv/bin/python benchmarks/label_scan.py [--images 2000] [--imgsz 640]

Before, train.py ran Ultralytics' ``verify_image_label`` over every image/label pair
(opening every image) before training, and Ultralytics then ran the same scan again when it
built its datasets. Now the corrupt list is taken from Ultralytics' own scan
(yolo_pipeline/container/label_scan.py), so the whole first pass is saved. This prints its
time on a generated dataset, per image, and extrapolated to 100,000 images.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from multiprocessing.pool import ThreadPool
from pathlib import Path


def make_dataset(root: Path, n: int, imgsz: int) -> list[Path]:
    import numpy as np
    from PIL import Image

    rng = np.random.default_rng(0)
    (root / "images").mkdir(parents=True)
    (root / "labels").mkdir()
    pixels = rng.integers(0, 255, (imgsz, imgsz, 3), dtype=np.uint8)
    images = []
    for i in range(n):
        path = root / "images" / f"{i:06d}.jpg"
        Image.fromarray(np.roll(pixels, i, axis=0)).save(path, quality=90)
        (root / "labels" / f"{i:06d}.txt").write_text("0 0.5 0.5 0.2 0.2\n", encoding="utf-8")
        images.append(path)
    return images


def old_prescan(images: list[Path]) -> int:
    """The removed pass: Ultralytics' per-pair check over every image, 8 threads."""
    from ultralytics.data.utils import img2label_paths, verify_image_label

    labels = img2label_paths([str(p) for p in images])
    jobs = [(str(im), lb, "", False, 1, 0, 0, False) for im, lb in zip(images, labels, strict=True)]
    with ThreadPool(min(8, os.cpu_count() or 1)) as pool:
        return sum(r[8] for r in pool.imap(verify_image_label, jobs, chunksize=64))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--images", type=int, default=2000)
    parser.add_argument("--imgsz", type=int, default=640)
    args = parser.parse_args()
    os.environ.setdefault("YOLO_OFFLINE", "1")
    with tempfile.TemporaryDirectory() as tmp:
        images = make_dataset(Path(tmp), args.images, args.imgsz)
        old_prescan(images[:50])  # warm imports and the page cache's first touch
        start = time.perf_counter()
        corrupt = old_prescan(images)
        seconds = time.perf_counter() - start
    per_image = seconds / args.images
    cpus = os.cpu_count()
    print(f"images: {args.images} x {args.imgsz}px JPEG, cpus: {cpus}, corrupt: {corrupt}")
    print(f"removed pre-scan: {seconds:.2f} s ({per_image * 1000:.2f} ms/image)")
    print(f"saved per 100k images: {per_image * 100_000 / 60:.1f} min (this machine's disk/CPU)")


if __name__ == "__main__":
    main()
