"""The one rule for which local folder a command line names as the dataset."""

from __future__ import annotations

from pathlib import Path

import pytest

from yolo_pipeline.dataset.root import DatasetRootError, dataset_root
from yolo_pipeline.errors import UsageError


def _dataset(tmp_path: Path) -> Path:
    root = tmp_path / "ds"
    (root / "images").mkdir(parents=True)
    (root / "data.yaml").write_text("names: [a]\n")
    return root


def test_the_folder_or_its_data_yaml_name_the_same_root(tmp_path: Path) -> None:
    root = _dataset(tmp_path)
    assert dataset_root(root) == root
    assert dataset_root(root / "data.yaml") == root


def test_a_missing_path_is_a_usage_error(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="does not exist"):
        dataset_root(tmp_path / "nope")


def test_another_file_is_not_a_dataset_folder(tmp_path: Path) -> None:
    root = _dataset(tmp_path)
    (root / "other.yaml").write_text("x: 1\n")
    with pytest.raises(DatasetRootError, match="not a folder"):
        dataset_root(root / "other.yaml")


def test_a_folder_without_data_yaml_at_its_top_is_refused(tmp_path: Path) -> None:
    root = _dataset(tmp_path)
    with pytest.raises(DatasetRootError, match=r"no data\.yaml at the top"):
        dataset_root(root / "images")
