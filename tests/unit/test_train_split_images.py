"""train.py counts a split's images by the same rules as the validator and Ultralytics."""

from __future__ import annotations

from pathlib import Path

import pytest

import train
from yolo_pipeline.dataset.labels import IMG_FORMATS


def _touch(root: Path, *names: str) -> None:
    for name in names:
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"x")


def test_folder_split_uses_the_validators_image_formats_and_skips_hidden(tmp_path: Path) -> None:
    _touch(
        tmp_path,
        "images/train/a.jpg",
        "images/train/b.AVIF",  # in Ultralytics' formats; a hand-kept list once missed it
        "images/train/sub/c.PNG",
        "images/train/.d.jpg",  # hidden: Ultralytics' `**/*.*` glob skips it
        "images/train/.cache/e.jpg",
        "images/train/notes.txt",
    )
    found = train.split_images(tmp_path, "images/train")
    assert [p.relative_to(tmp_path).as_posix() for p in found] == [
        "images/train/a.jpg",
        "images/train/b.AVIF",
        "images/train/sub/c.PNG",
    ]
    assert "avif" in IMG_FORMATS


def test_split_outside_the_dataset_is_a_user_error(tmp_path: Path) -> None:
    with pytest.raises(train.UserError, match="outside the dataset folder"):
        train.split_images(tmp_path, "../elsewhere")
