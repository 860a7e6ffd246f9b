"""The SageMaker folders under one root (/opt/ml in a job, --sm-root elsewhere).

See docs/architecture.md ("Contracts") for what SageMaker does with each of them.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from yolo_pipeline.contract import CHANNEL_DATASET

CHANNEL = CHANNEL_DATASET
RUN_NAME = "run"  # the Ultralytics run folder under checkpoints/


@dataclass(frozen=True)
class Layout:
    """The SageMaker folders under ``root``; ``code`` is where train.py sits (/opt/ml/code in
    the image, training_image/ in a checkout): baked weights are looked up there."""

    root: Path
    code: Path

    @property
    def hyperparameters(self) -> Path:
        return self.root / "input" / "config" / "hyperparameters.json"

    @property
    def channel(self) -> Path:
        return self.root / "input" / "data" / CHANNEL

    @property
    def checkpoints(self) -> Path:
        return self.root / "checkpoints"

    @property
    def run_dir(self) -> Path:
        return self.checkpoints / RUN_NAME

    @property
    def model(self) -> Path:
        return self.root / "model"

    @property
    def failure(self) -> Path:
        return self.root / "output" / "failure"
