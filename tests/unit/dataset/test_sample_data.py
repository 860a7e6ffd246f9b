"""The synthetic shapes dataset is a valid, deterministic YOLO detection dataset."""

from __future__ import annotations

from pathlib import Path

import yaml
from PIL import Image

from yolo_pipeline.dataset.data_yaml import parse_data_yaml
from yolo_pipeline.dataset.sample import CLASS_NAMES, make_shapes_dataset


def test_layout_labels_and_data_yaml(tmp_path: Path) -> None:
    data_yaml = make_shapes_dataset(tmp_path, n_train=6, n_val=3, imgsz=96, seed=1)
    config = yaml.safe_load(data_yaml.read_text())
    assert config == {
        "train": "images/train",
        "val": "images/val",
        "nc": 3,
        "names": list(CLASS_NAMES),
    }
    parsed = parse_data_yaml(data_yaml.read_bytes())
    assert parsed.config is not None
    assert [f for f in parsed.findings if f.severity == "error"] == []
    for split, count in (("train", 6), ("val", 3)):
        images = sorted((tmp_path / "images" / split).glob("*.jpg"))
        assert len(images) == count
        for image in images:
            with Image.open(image) as im:
                assert im.size == (96, 96) and im.mode == "RGB"
            rows = (tmp_path / "labels" / split / f"{image.stem}.txt").read_text().splitlines()
            assert 1 <= len(rows) <= 3
            for row in rows:
                cls, *box = row.split()
                assert int(cls) in range(len(CLASS_NAMES))
                assert all(0.0 < float(v) <= 1.0 for v in box)
                cx, cy, w, h = map(float, box)
                assert cx - w / 2 >= 0 and cx + w / 2 <= 1 and cy - h / 2 >= 0 and cy + h / 2 <= 1


def test_deterministic_per_seed(tmp_path: Path) -> None:
    a = make_shapes_dataset(tmp_path / "a", n_train=3, n_val=1, seed=5).parent
    b = make_shapes_dataset(tmp_path / "b", n_train=3, n_val=1, seed=5).parent
    c = make_shapes_dataset(tmp_path / "c", n_train=3, n_val=1, seed=6).parent
    label = Path("labels/train/train_0000.txt")
    assert (a / label).read_text() == (b / label).read_text()
    image = Path("images/train/train_0001.jpg")
    assert (a / image).read_bytes() == (b / image).read_bytes()
    assert (a / image).read_bytes() != (c / image).read_bytes()


def test_every_class_appears(tmp_path: Path) -> None:
    make_shapes_dataset(tmp_path, n_train=32, n_val=0)
    classes = {
        int(line.split()[0])
        for f in (tmp_path / "labels" / "train").glob("*.txt")
        for line in f.read_text().splitlines()
    }
    assert classes == set(range(len(CLASS_NAMES)))
