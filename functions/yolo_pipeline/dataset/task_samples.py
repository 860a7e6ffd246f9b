"""Tiny, learnable synthetic datasets of the tasks without label rows, for tests and `local`:
a classification tree of solid-colour images, semantic masks of rectangles, depth ramps.

Each writer makes ``train`` and ``val`` and returns the dataset folder. Needs numpy and
Pillow (the training stack); the Lambdas never import it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import yaml
from PIL import Image

from yolo_pipeline.errors import UsageError

COLOURS: dict[str, tuple[int, int, int]] = {
    "red": (220, 30, 30),
    "green": (30, 200, 40),
    "blue": (30, 50, 220),
}
SEMANTIC_NAMES = ("background", "rectangle")
# Ultralytics arguments that learn these sets on 2 CPU cores in seconds: a YOLO26 architecture
# from scratch (nothing to download), small images, no mosaic, and no warmup (Ultralytics warms
# up for at least 100 iterations, longer than these whole runs).
CPU_TASK_ARGS: dict[str, dict[str, Any]] = {
    "classify": {
        "model": "yolo26n-cls.yaml",
        "imgsz": 32,
        "batch": 8,
        "nbs": 8,
        "erasing": 0.0,  # a blanked patch of a solid-colour image is another colour
        "auto_augment": "",
        "optimizer": "Adam",  # "auto" picks a rate too low for a few dozen steps
        "lr0": 0.003,
    },
    "semantic": {"model": "yolo26n-sem.yaml", "imgsz": 64, "batch": 4, "nbs": 4},
    "depth": {"model": "yolo26n-depth.yaml", "imgsz": 64, "batch": 4, "nbs": 4},
}
_COMMON = {"mosaic": 0.0, "warmup_epochs": 0, "amp": False, "plots": False}


def cpu_args(task: str) -> dict[str, Any]:
    return {**CPU_TASK_ARGS[task], **_COMMON}


def write_training_yaml(root: Path, task: str, epochs: int = 3) -> Path:
    """training.yaml with the CPU settings and no model: the job trains the task's default
    (its YOLO26 n model; `local` without the weights builds its architecture)."""
    args = {k: v for k, v in cpu_args(task).items() if k != "model"}
    path = Path(root) / "training.yaml"
    path.write_text(yaml.safe_dump({**args, "epochs": epochs}, sort_keys=False), encoding="utf-8")
    return path


def _counts(n_train: int, n_val: int) -> tuple[tuple[str, int], ...]:
    return (("train", n_train), ("val", n_val))


def make_classify_dataset(
    root: Path, n_train: int = 8, n_val: int = 3, imgsz: int = 32, seed: int = 0
) -> Path:
    """``train/<colour>/*.png`` and ``val/<colour>/*.png``, plus the ``task: classify``
    data.yaml trigger a folder upload needs."""
    root = Path(root)
    rng = np.random.default_rng(seed)
    for split, count in _counts(n_train, n_val):
        for name, colour in COLOURS.items():
            folder = root / split / name
            folder.mkdir(parents=True, exist_ok=True)
            for i in range(count):
                noise = rng.normal(0, 12, size=(imgsz, imgsz, 3))
                pixels = np.clip(np.array(colour) + noise, 0, 255).astype(np.uint8)
                Image.fromarray(pixels, "RGB").save(folder / f"{name}_{i:03d}.png")
    (root / "data.yaml").write_text("task: classify\n", encoding="utf-8")
    return root


def make_semantic_dataset(
    root: Path, n_train: int = 12, n_val: int = 4, imgsz: int = 64, seed: int = 0
) -> Path:
    """``images/<split>/*.jpg`` with one bright rectangle each and ``masks/<split>/*.png``
    (0 background, 1 rectangle)."""
    root = Path(root)
    rng = np.random.default_rng(seed)
    for split, count in _counts(n_train, n_val):
        (root / "images" / split).mkdir(parents=True, exist_ok=True)
        (root / "masks" / split).mkdir(parents=True, exist_ok=True)
        for i in range(count):
            image = np.clip(rng.normal(90, 15, size=(imgsz, imgsz, 3)), 0, 255).astype(np.uint8)
            mask = np.zeros((imgsz, imgsz), np.uint8)
            w, h = (int(v) for v in rng.integers(imgsz // 4, imgsz // 2, 2))
            x, y = (int(v) for v in rng.integers(0, imgsz - max(w, h), 2))
            image[y : y + h, x : x + w] = (230, 40, 40)
            mask[y : y + h, x : x + w] = 1
            Image.fromarray(image, "RGB").save(root / "images" / split / f"{i:03d}.jpg", quality=95)
            Image.fromarray(mask, "L").save(root / "masks" / split / f"{i:03d}.png")
    _write_yaml(root, {"masks_dir": "masks", "names": dict(enumerate(SEMANTIC_NAMES))})
    return root


def make_depth_dataset(
    root: Path, n_train: int = 12, n_val: int = 4, imgsz: int = 64, seed: int = 0
) -> Path:
    """``images/<split>/*.jpg`` of grey ramps and ``depth/<split>/*.png``: 16-bit depth in
    millimetres (depth_scale 1000), 1 m to 5 m along the ramp."""
    root = Path(root)
    rng = np.random.default_rng(seed)
    for split, count in _counts(n_train, n_val):
        (root / "images" / split).mkdir(parents=True, exist_ok=True)
        (root / "depth" / split).mkdir(parents=True, exist_ok=True)
        for i in range(count):
            ramp = np.tile(np.linspace(1.0, 5.0, imgsz, dtype=np.float32), (imgsz, 1))
            if rng.integers(0, 2):
                ramp = ramp.T
            grey = (255 - ramp * 45).astype(np.uint8)
            Image.fromarray(np.stack([grey] * 3, axis=-1), "RGB").save(
                root / "images" / split / f"{i:03d}.jpg", quality=95
            )
            Image.fromarray((ramp * 1000).astype(np.uint16)).save(
                root / "depth" / split / f"{i:03d}.png"
            )
    _write_yaml(root, {"nc": 1, "names": {0: "depth"}, "depth_scale": 1000})
    return root


def _write_yaml(root: Path, extra: dict[str, Any]) -> None:
    config = {"train": "images/train", "val": "images/val", **extra}
    (root / "data.yaml").write_text(yaml.safe_dump(config, sort_keys=False), encoding="utf-8")


def write_task_sample(root: Path, task: str, seed: int = 0, epochs: int = 10) -> Path:
    """``yolo-pipeline sample-dataset --task``: the task's tiny set and a training.yaml."""
    root = Path(root)
    if root.exists() and any(root.iterdir()):
        raise UsageError(f"{root} is not empty: choose a new folder")
    WRITERS[task](root, seed=seed)
    write_training_yaml(root, task, epochs)
    return root


WRITERS = {
    "classify": make_classify_dataset,
    "semantic": make_semantic_dataset,
    "depth": make_depth_dataset,
}
