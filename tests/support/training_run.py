"""The training tier's helpers: a SageMaker-shaped folder and train.py as a real process."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.support.helpers import ROOT
from yolo_pipeline.dataset.sample import CPU_TRAIN_ARGS, make_shapes_dataset
from yolo_pipeline.training.hyperparameters import encode_hyperparameters

TRAIN_PY = ROOT / "training_image" / "train.py"

# The CPU settings of yolo_pipeline.dataset.sample: the shapes dataset learns in about a minute.
FAST_ARGS: dict[str, Any] = {**CPU_TRAIN_ARGS, "workers": 0}


@dataclass
class SageMakerRun:
    root: Path
    returncode: int | None = None
    log: str = ""

    @property
    def dataset(self) -> Path:
        return self.root / "input" / "data" / "dataset"

    @property
    def model(self) -> Path:
        return self.root / "model"

    @property
    def failure(self) -> Path:
        return self.root / "output" / "failure"

    @property
    def checkpoints(self) -> Path:
        return self.root / "checkpoints"


def sagemaker_layout(
    root: Path, hyperparameters: Mapping[str, Any], dataset: bool = True
) -> SageMakerRun:
    """input/config/hyperparameters.json (strings, as SageMaker writes them) and the channel."""
    config = root / "input" / "config"
    config.mkdir(parents=True)
    (config / "hyperparameters.json").write_text(
        json.dumps(encode_hyperparameters(hyperparameters)), encoding="utf-8"
    )
    run = SageMakerRun(root)
    if dataset:
        make_shapes_dataset(run.dataset)
    return run


def child_env(run: SageMakerRun) -> dict[str, str]:
    """The process environment: offline, and its own Ultralytics/matplotlib config folders."""
    env = dict(os.environ)
    env.update(
        YOLO_OFFLINE="1",
        PYTHONUNBUFFERED="1",
        YOLO_CONFIG_DIR=str(run.root.parent / f"{run.root.name}-yolo-config"),
        MPLCONFIGDIR=str(run.root.parent / f"{run.root.name}-mpl"),
    )
    return env


def train_command(run: SageMakerRun) -> list[str]:
    return [sys.executable, str(TRAIN_PY), "train", "--sm-root", str(run.root)]


def run_train(run: SageMakerRun, timeout: float = 600) -> SageMakerRun:
    proc = subprocess.run(
        train_command(run),
        env=child_env(run),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    run.returncode = proc.returncode
    run.log = proc.stdout + proc.stderr
    return run


def retask_shapes(root: Path, task: str) -> None:
    """Turn a shapes dataset's boxes into segment polygons (the box outline) or pose rows
    (3 keypoints: centre, left and right middle, all visible) with kpt_shape and flip_idx."""
    import yaml

    for label in (root / "labels").rglob("*.txt"):
        rows = []
        for line in label.read_text(encoding="utf-8").splitlines():
            c, x, y, w, h = line.split()
            cx, cy, bw, bh = float(x), float(y), float(w), float(h)
            x0, x1, y0, y1 = cx - bw / 2, cx + bw / 2, cy - bh / 2, cy + bh / 2
            if task == "segment":
                rows.append(
                    f"{c} {x0:.6f} {y0:.6f} {x1:.6f} {y0:.6f} {x1:.6f} {y1:.6f} {x0:.6f} {y1:.6f}"
                )
            else:
                points = f"{cx:.6f} {cy:.6f} 2 {x0:.6f} {cy:.6f} 2 {x1:.6f} {cy:.6f} 2"
                rows.append(f"{line} {points}")
        label.write_text("\n".join(rows) + "\n", encoding="utf-8")
    if task == "pose":
        data = yaml.safe_load((root / "data.yaml").read_text(encoding="utf-8"))
        data.update(kpt_shape=[3, 3], flip_idx=[0, 2, 1])
        (root / "data.yaml").write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
