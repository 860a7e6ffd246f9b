"""Where the validator hands a dataset to the checks of the tasks without label rows.

Two hooks, each one call from the validator: :func:`classify_hook` before data.yaml is
parsed as a YOLO data.yaml (a classification data.yaml holds no splits), and
:func:`dense_task` once the splits are known (semantic masks and depth maps pair with the
images as labels do, so they replace the label pass).
"""

from __future__ import annotations

import dataclasses

from yolo_pipeline.contract import DATA_YAML, TRAINING_YAML
from yolo_pipeline.dataset.data_yaml import MAX_DATA_YAML_BYTES
from yolo_pipeline.dataset.storage.base import Storage
from yolo_pipeline.dataset.validation.index import ListingIndex
from yolo_pipeline.dataset.validation.report import Report
from yolo_pipeline.dataset.validation.tasks.classify import (
    classify_requested,
    looks_like_class_folders,
    validate_classify,
)
from yolo_pipeline.training.config import MAX_BYTES as TRAINING_YAML_MAX_BYTES
from yolo_pipeline.training.tasks import requested_in_training_yaml, task_from_model


def classify_hook(storage: Storage, data_yaml: str, index: ListingIndex, report: Report) -> bool:
    """Validate a classification dataset and say so; False leaves the dataset to the YOLO
    checks. Classification is ``task: classify`` in data.yaml or training.yaml, a ``-cls``
    model, or (a zip, or a folder without data.yaml) train/ of class folders."""
    info = index.by_path.get(data_yaml)
    content = None
    if info is not None and info.size <= MAX_DATA_YAML_BYTES:
        content = storage.read_bytes(data_yaml, MAX_DATA_YAML_BYTES)
    training = index.by_path.get(TRAINING_YAML)
    if training is not None and training.size <= TRAINING_YAML_MAX_BYTES:
        report.training_yaml = storage.read_bytes(TRAINING_YAML, TRAINING_YAML_MAX_BYTES)
    explicit, model = requested_in_training_yaml(report.training_yaml)
    named = task_from_model(model) if model else None
    wanted = explicit if explicit is not None else named
    if wanted is not None and wanted != "classify":
        return False
    if not (
        wanted == "classify"
        or classify_requested(content)
        or (data_yaml == DATA_YAML and looks_like_class_folders(index))
    ):
        return False
    validate_classify(index, content, report)
    report.stats = dataclasses.replace(report.stats, task="classify")
    return True
