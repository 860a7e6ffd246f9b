"""Which local folder a command line names as the dataset: the folder, or its data.yaml."""

from __future__ import annotations

from pathlib import Path

from yolo_pipeline.contract import DATA_YAML
from yolo_pipeline.errors import UsageError


class DatasetRootError(UsageError):
    """The path names no dataset folder; the message says what to pass instead."""


def dataset_root(path: Path) -> Path:
    """The dataset folder that ``path`` names: the folder itself, or the folder of its
    data.yaml. The folder must hold data.yaml at its top: an upload starts a job when
    data.yaml arrives, and training reads it there. The path is returned as given (not
    resolved), so messages show what the user typed.
    """
    root = path.parent if path.name == DATA_YAML and path.is_file() else path
    if not root.exists():
        raise DatasetRootError(f"{path} does not exist: pass a dataset folder or its {DATA_YAML}")
    if not root.is_dir():
        raise DatasetRootError(
            f"{path}: not a folder; pass the dataset folder that holds {DATA_YAML}"
        )
    if not (root / DATA_YAML).is_file():
        raise DatasetRootError(
            f"{root}: no {DATA_YAML} at the top of the folder; the pipeline starts training "
            f"when {DATA_YAML} arrives, so the folder must contain one"
        )
    return root
