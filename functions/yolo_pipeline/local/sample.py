"""The sample shapes dataset with a training.yaml that learns on a CPU in about a minute."""

from __future__ import annotations

import shutil
from pathlib import Path

import yaml

from yolo_pipeline.contract import TRAINING_YAML
from yolo_pipeline.local.errors import LocalRunError

SAMPLE_MARKER = "# written by yolo-pipeline sample-dataset"
SAMPLE_EPOCHS = 30  # mAP50 ~0.99 on the shapes sample; 15 epochs stop just after the jump


def sample_training_yaml() -> str:
    """The sample's training.yaml: settings that learn on 2 CPU cores in about a minute
    (``sample_data.CPU_TRAIN_ARGS``); on SageMaker the same settings train on a GPU."""
    from yolo_pipeline.dataset.sample import CPU_TRAIN_ARGS  # numpy/Pillow: only when asked

    train_args = yaml.safe_dump({**CPU_TRAIN_ARGS, "epochs": SAMPLE_EPOCHS}, sort_keys=False)
    return (
        f"{SAMPLE_MARKER}\n"
        "# Ultralytics train arguments (any key of ultralytics/cfg/default.yaml); see README.\n"
        f"{train_args}"
        "# Where and how SageMaker runs it (the stack's defaults apply to anything left out).\n"
        "sagemaker:\n"
        "  instance_type: ml.g4dn.xlarge\n"
        "  spot: true\n"
        "  max_runtime_hours: 1\n"
    )


def write_sample_dataset(root: Path, n_train: int, n_val: int, imgsz: int, seed: int) -> Path:
    """The synthetic shapes dataset plus a CPU-friendly training.yaml; returns the folder.

    Refuses a non-empty folder that this command did not write (never overwrite user data).
    """
    from yolo_pipeline.dataset.sample import make_shapes_dataset  # numpy/Pillow: only when asked

    marker = root / TRAINING_YAML
    ours = marker.is_file() and marker.read_text(encoding="utf-8").startswith(SAMPLE_MARKER)
    if root.exists() and (not root.is_dir() or (any(root.iterdir()) and not ours)):
        raise LocalRunError(f"{root} exists and is not an earlier sample: choose a new folder")
    if ours:  # regenerate from scratch so different --train/--val leave no stale images
        for folder in ("images", "labels"):
            shutil.rmtree(root / folder, ignore_errors=True)
    make_shapes_dataset(root, n_train=n_train, n_val=n_val, imgsz=imgsz, seed=seed)
    marker.write_text(sample_training_yaml(), encoding="utf-8")
    return root
