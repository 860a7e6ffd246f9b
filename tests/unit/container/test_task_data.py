"""What training reads per task: a classification zip without data.yaml unpacks to its class
folders, and classification trains on links to the checked images only."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.support.dataset_factory import write_local
from tests.support.task_files import classify_files, rgb_image
from tests.support.zip_factory import write_zip
from yolo_pipeline.container.errors import UserError
from yolo_pipeline.container.task_data import classify_view, prepare
from yolo_pipeline.container.zip_extract import dataset_folder


def test_a_classification_zip_unpacks_to_its_class_folders(tmp_path: Path) -> None:
    files = classify_files()
    del files["data.yaml"]
    channel = tmp_path / "channel"
    channel.mkdir()
    write_zip(channel / "pets.zip", files, top="pets/")
    root = dataset_folder(channel, tmp_path / "scratch")
    assert root == (tmp_path / "scratch" / "pets").resolve()
    assert (root / "train" / "cat").is_dir()


def test_the_view_holds_only_checked_images(tmp_path: Path) -> None:
    files = {
        **classify_files(("cat", "dog")),
        "train.cache": b"\x80\x04N.",  # read with pickle by Ultralytics: never in the view
        ".ndjson.yaml": b"names: {0: evil}\n",
        "val/eel/eel_0.png": rgb_image(),  # a class train lacks
        "train/readme.png": rgb_image(),  # not in a class folder
    }
    root = write_local(tmp_path / "ds", files)
    (root / "train" / "empty-class").mkdir()
    view, config, scan = classify_view(root)
    listed = sorted(p.relative_to(view).as_posix() for p in view.rglob("*") if p.is_file())
    assert config.names == ["cat", "dog"] and scan.images == {"train": 6, "val": 4}
    assert listed == sorted(k for k in files if k.count("/") == 2 and "eel" not in k)
    assert all(os.path.islink(view / p) for p in listed)
    assert prepare(root, {"task": "classify"})[1].names == ["cat", "dog"]


def test_no_class_folders_is_a_user_error(tmp_path: Path) -> None:
    root = write_local(tmp_path / "ds", {"data.yaml": b"task: classify\n", "train/a.png": b"x"})
    with pytest.raises(UserError, match="class folders"):
        classify_view(root)
