"""The container counts a split's images by the same rules as the validator and Ultralytics."""

from __future__ import annotations

from pathlib import Path

import pytest

from yolo_pipeline.container.dataset_scan import (
    DatasetScan,
    read_data_yaml,
    split_images,
    write_sanitized_copy,
)
from yolo_pipeline.container.errors import UserError
from yolo_pipeline.dataset.labels import IMG_FORMATS
from yolo_pipeline.errors import PipelineError


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
    found = split_images(tmp_path, "images/train")
    assert [p.relative_to(tmp_path).as_posix() for p in found] == [
        "images/train/a.jpg",
        "images/train/b.AVIF",
        "images/train/sub/c.PNG",
    ]
    assert "avif" in IMG_FORMATS


def test_split_outside_the_dataset_is_a_user_error(tmp_path: Path) -> None:
    with pytest.raises(UserError, match="outside the dataset folder"):
        split_images(tmp_path, "../elsewhere")


def test_txt_split_lists_images_and_drops_lines_leaving_the_dataset(tmp_path: Path) -> None:
    _touch(tmp_path, "images/a.jpg", "images/b.jpg")
    (tmp_path / "train.txt").write_text("./images/a.jpg\n\n  images/b.jpg  \n../../etc/x.jpg\n")
    found = split_images(tmp_path, "train.txt")
    assert [p.relative_to(tmp_path.resolve()).as_posix() for p in found] == [
        "images/a.jpg",
        "images/b.jpg",
    ]
    assert split_images(tmp_path, "missing") == []


def test_data_yaml_missing_or_invalid_is_a_user_error(tmp_path: Path) -> None:
    with pytest.raises(UserError, match=r"^data\.yaml is missing at the dataset root"):
        read_data_yaml(tmp_path)
    (tmp_path / "data.yaml").write_text("train: images/train\nnames: [a]\n", encoding="utf-8")
    with pytest.raises(UserError, match=r"^Invalid dataset: data\.yaml") as caught:
        read_data_yaml(tmp_path)
    assert "val" in str(caught.value)
    assert isinstance(caught.value, PipelineError)


def test_sanitized_copy_keeps_known_keys_only_and_leaves_the_upload_alone(tmp_path: Path) -> None:
    channel = tmp_path / "channel"
    channel.mkdir()
    uploaded = "train: images/train\nval: images/val\nnames: [a, b]\npath: /elsewhere\n"
    (channel / "data.yaml").write_text(uploaded, encoding="utf-8")
    copy = write_sanitized_copy(read_data_yaml(channel), channel)
    try:
        text = copy.read_text(encoding="utf-8")
        assert copy.parent != channel
        assert "/elsewhere" not in text and str(channel) in text
        assert (channel / "data.yaml").read_text(encoding="utf-8") == uploaded
    finally:
        copy.unlink()
        copy.parent.rmdir()


def test_scan_dict_caps_the_listed_corrupt_files() -> None:
    scan = DatasetScan({"train": 3}, [f"images/{i}.jpg: bad" for i in range(1500)])
    out = scan.as_dict()
    assert out["images"] == {"train": 3}
    assert out["corrupt_images"] == 1500
    assert len(out["corrupt_files"]) == 1000
