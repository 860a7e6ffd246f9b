"""Dataset checks on local folders: the corpus, label rows, pairing, splits, the report."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.support.dataset_factory import (
    FAKE_JPEG,
    Case,
    corpus,
    data_yaml,
    detect_dataset,
    with_changes,
    write_local,
)
from yolo_pipeline.dataset.labels import IMG_FORMATS, check_label_file, is_image, label_path
from yolo_pipeline.dataset.storage.local import LocalStorage
from yolo_pipeline.dataset.validation import (
    Report,
    SplitStats,
    validate_dataset,
    validate_location,
)

NAMES = ["circle", "square", "triangle"]


def run(tmp_path: Path, files: dict[str, bytes]) -> Report:
    return validate_dataset(LocalStorage(write_local(tmp_path / "ds", files)))


def text_of(findings: list[Any]) -> str:
    return "\n".join(map(str, findings))


@pytest.mark.parametrize("case", corpus(), ids=lambda c: c.name)
def test_corpus_locally(tmp_path: Path, case: Case) -> None:
    report = run(tmp_path, case.files)
    assert report.valid is case.valid, report.render_text()
    pool = report.warnings if case.valid else report.errors
    assert case.expect in text_of(pool), report.render_text()
    json.dumps(report.to_dict())  # always JSON-ready


def test_stats_of_a_good_dataset(tmp_path: Path) -> None:
    report = run(tmp_path, detect_dataset(n_train=6, n_val=3, n_test=2, background=2))
    assert report.valid, report.render_text()
    assert report.stats.task == "detect"
    assert report.stats.classes == 3
    assert report.stats.names == tuple(NAMES)
    assert report.stats.splits["train"] == SplitStats(
        images=8, labelled=6, background=2, instances=1 + 2 + 3 + 1 + 2 + 3
    )
    assert report.stats.splits["test"].images == 2
    assert sum(report.stats.instances_per_class.values()) == sum(
        s.instances for s in report.stats.splits.values()
    )
    assert report.config is not None and report.config.nc == 3


def test_segment_task_detected(tmp_path: Path) -> None:
    report = run(tmp_path, detect_dataset(segment=True))
    assert report.valid and report.stats.task == "segment"


def test_mixed_box_and_polygon_files_warn_and_detect(tmp_path: Path) -> None:
    files = with_changes(
        detect_dataset(), **{"labels/train/train_00001.txt": "0 0.1 0.1 0.2 0.1 0.2 0.2\n"}
    )
    report = run(tmp_path, files)
    assert report.valid
    assert report.stats.task == "detect"
    assert "training uses boxes only" in text_of(report.warnings)


def test_label_problems_are_capped_with_a_count(tmp_path: Path) -> None:
    files = detect_dataset(n_train=30)
    for i in range(30):
        files[f"labels/train/train_{i:05d}.txt"] = b"9 0.5 0.5 0.1 0.1\n"
    report = run(tmp_path, files)
    assert not report.valid
    assert "... and 10 more label problems" in text_of(report.errors)
    assert "30 label file(s) have problems" in text_of(report.errors)
    assert len(report.errors) == 22


def test_list_file_splits(tmp_path: Path) -> None:
    files = detect_dataset()
    train = [p for p in files if p.startswith("images/train/")]
    files["train.txt"] = ("\n".join(f"./{p}" for p in train) + "\n").encode()
    files["lists/val.txt"] = (
        b"\xef\xbb\xbf./../images/val/val_00000.jpg\r\nimages/val/val_00001.jpg\r\n"
    )
    files["data.yaml"] = data_yaml(train="train.txt", val="lists/val.txt", names=NAMES)
    report = run(tmp_path, files)
    assert report.valid, report.render_text()
    assert report.stats.splits["train"].images == 4
    assert report.stats.splits["val"].images == 2
    assert "do not start with ./" in text_of(report.warnings)


def test_list_file_with_missing_and_escaping_entries(tmp_path: Path) -> None:
    files = detect_dataset()
    files["train.txt"] = b"./images/train/nope.jpg\n/abs/x.jpg\n./images/train/train_00000.jpg\n"
    files["data.yaml"] = data_yaml(train="train.txt", val="images/val", names=NAMES)
    report = run(tmp_path, files)
    errors = text_of(report.errors)
    assert "train.txt:1: lists 'images/train/nope.jpg', which does not exist" in errors
    assert "train.txt:2:" in errors and "absolute path" in errors


def test_hidden_files_and_non_images_are_skipped(tmp_path: Path) -> None:
    files = detect_dataset()
    files["images/train/._train_00000.jpg"] = FAKE_JPEG  # macOS AppleDouble
    files["images/train/.cache/x.jpg"] = FAKE_JPEG
    files["images/train/notes.md"] = b"hello"
    files["images/train/clip.mp4"] = b"\x00"
    report = run(tmp_path, files)
    assert report.valid
    assert report.stats.splits["train"].images == 4


def test_labels_next_to_images_without_images_folder(tmp_path: Path) -> None:
    files = {
        "train/a.jpg": FAKE_JPEG,
        "train/a.txt": b"0 0.5 0.5 0.1 0.1\n",
        "val/b.png": FAKE_JPEG,
        "val/b.txt": b"0 0.5 0.5 0.1 0.1\n",
        "data.yaml": data_yaml(train="train", val="val", names=["x"]),
    }
    report = run(tmp_path, files)
    assert report.valid, report.render_text()


def test_overlap_and_orphans_and_unused_classes_warn(tmp_path: Path) -> None:
    files = detect_dataset(n_train=3, classes=("a", "b", "c", "never"))
    files["labels/train/ghost.txt"] = b"0 0.5 0.5 0.1 0.1\n"
    files["data.yaml"] = data_yaml(
        train="images/train", val=["images/val", "images/train"], names=["a", "b", "c", "never"]
    )
    report = run(tmp_path, files)
    warnings = text_of(report.warnings)
    assert report.valid
    assert "3 of 5 val images are also in train" in warnings
    assert "1 label file(s) have no matching image" in warnings
    assert "1 class(es) have no instances in train: never" in warnings


def test_missing_label_dir_with_images_not_under_images(tmp_path: Path) -> None:
    files = {"pics/a.jpg": FAKE_JPEG, "data.yaml": data_yaml(train="pics", val="pics", names=["x"])}
    report = run(tmp_path, files)
    assert "put images under an images/ folder" in text_of(report.errors)


def test_json_stats_keep_their_keys_and_shapes(tmp_path: Path) -> None:
    report = run(tmp_path, detect_dataset(n_train=6, n_val=3, background=2))
    stats = json.loads(json.dumps(report.to_dict()))["stats"]
    assert list(stats) == [
        "files",
        "bytes",
        "task",
        "classes",
        "names",
        "label_files_read",
        "splits",
        "crlf_label_files",
        "instances_per_class",
    ]
    assert stats["task"] == "detect" and stats["names"] == NAMES
    assert stats["splits"]["train"] == {
        "images": 8,
        "labelled": 6,
        "background": 2,
        "instances": 12,
    }
    per_class = stats["instances_per_class"]
    assert list(per_class) == NAMES
    assert sum(per_class.values()) == sum(row["instances"] for row in stats["splits"].values())


def test_json_stats_hold_only_what_was_counted(tmp_path: Path) -> None:
    files = with_changes(detect_dataset(), **{"data.yaml": b"#" * (1024 * 1024 + 1)})
    stats = run(tmp_path, files).to_dict()["stats"]
    assert set(stats) == {"files", "bytes"}


def test_oversized_data_yaml_rejected_from_listing(tmp_path: Path) -> None:
    files = with_changes(detect_dataset(), **{"data.yaml": b"#" * (1024 * 1024 + 1)})
    report = run(tmp_path, files)
    assert "the limit is 1,048,576" in text_of(report.errors)


def test_validate_location_accepts_folder_yaml_and_reports_missing(tmp_path: Path) -> None:
    root = write_local(tmp_path / "ds", detect_dataset())
    assert validate_location(str(root)).valid
    assert validate_location(str(root / "data.yaml")).valid
    missing = validate_location(str(tmp_path / "nope"))
    assert not missing.valid and "does not exist" in text_of(missing.errors)


def test_render_text_caps_items(tmp_path: Path) -> None:
    files = detect_dataset(n_train=30)
    for i in range(30):
        files[f"labels/train/train_{i:05d}.txt"] = b"0 2 0.5 0.1 0.1\n"
    text = run(tmp_path, files).render_text(max_items=5)
    assert text.startswith("INVALID: ")
    assert "... and 17 more" in text
    assert "train " in text  # the stats table


# ---- label rows -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (b"0 0.5 0.5 0.2 0.2\n", None),
        (b"2 0.1 0.1 0.2 0.1 0.2 0.2 0.1 0.2\n", None),
        (b"1.0 0.5 0.5 0.2 0.2\n", None),
        (b"0 1.005 0.5 0.2 0.2\n", None),  # within Ultralytics' 1% tolerance
        (b"0 0.5 0.5\n", "has 3 column(s)"),
        (b"3 0.5 0.5 0.2 0.2\n", "class 3 is out of range: data.yaml defines 3 classes (0-2)"),
        (b"-1 0.5 0.5 0.2 0.2\n", "class -1 is out of range"),
        (b"0.5 0.5 0.5 0.2 0.2\n", "not an integer"),
        (b"circle 0.5 0.5 0.2 0.2\n", "circle is 0"),
        (b"0 1.5 0.5 0.2 0.2\n", "outside [0, 1]"),
        (b"0 -0.2 0.5 0.2 0.2\n", "outside [0, 1]"),
        (b"0 inf 0.5 0.2 0.2\n", "not a finite number"),
        (b"0 1_0 0.5 0.2 0.2\n", "coordinate 10 is outside [0, 1]"),  # float("1_0") == 10
        (b"0 0.1_5 0.5 0.2 0.2\n", None),  # float(): 0.15, as Ultralytics reads it
        (b"0 0.5 0.5 0.2 1.010000001\n", None),  # float32: 1.01, within the tolerance
        (b"0 0.5 0.5 0.2 1.0100001\n", "outside [0, 1]"),
        (b"0 0.5 0.5 -0.005 0.2\n", "has a negative width"),  # no tolerance for sizes
        (b"0 0.5 0.5 0.2 -0.001\n", "has a negative width or height"),
        (b"0 0.5 0.5 0.2 0.2 0.9\n", "6 columns"),
        (b"0 0.1 0.1 0.2 0.2 0.3 0.3 0.4\n", "odd number"),
        (b"0;0.5;0.5;0.2;0.2\n", "has 1 column(s)"),
    ],
)
def test_label_rows(content: bytes, expected: str | None) -> None:
    result = check_label_file("labels/train/a.txt", content, NAMES)
    found = "\n".join(map(str, result.problems))
    if expected is None:
        assert result.ok, found
        assert sum(result.instances.values()) == 1
    else:
        assert expected in found
        assert "labels/train/a.txt:1:" in found


def test_label_problems_name_the_line_and_are_capped_per_file() -> None:
    content = b"0 0.5 0.5 0.1 0.1\n\n" + b"7 0.5 0.5 0.1 0.1\n" * 12
    result = check_label_file("l.txt", content, NAMES)
    assert result.problems[0].line == 3
    assert result.problem_count == 12 and len(result.problems) == 5


def test_label_notes_count_duplicates_crlf_and_zero_boxes() -> None:
    content = b"0 0.5 0.5 0.1 0.1\r\n0 0.5 0.5 0.1 0.1\r\n1 0.5 0.5 0 0.1\r\n"
    result = check_label_file("l.txt", content, NAMES)
    assert result.ok
    assert result.notes == {"crlf": 1, "duplicate": 1, "zero_size": 1}


def test_keypoint_rows_accepted_with_kpt_shape() -> None:
    row = "0 0.5 0.5 0.2 0.2 " + " ".join(["0.5 0.5 2"] * 2)
    result = check_label_file("l.txt", row.encode(), NAMES, kpt_shape=(2, 3))
    assert result.ok and result.box_rows == 1


# ---- Ultralytics equivalence ------------------------------------------------------------


def test_image_formats_match_ultralytics() -> None:
    ultra = pytest.importorskip("ultralytics.data.utils")
    assert frozenset(ultra.IMG_FORMATS) == IMG_FORMATS


@pytest.mark.parametrize(
    "image",
    [
        "images/train/a.jpg",
        "train/images/a.b.PNG",
        "images/x/images/y/z.jpeg",
        "data/a.jpg",
        "a.jpg",
        "images/a.tif",
    ],
)
def test_label_path_matches_ultralytics(image: str) -> None:
    ultra = pytest.importorskip("ultralytics.data.utils")
    root = "/opt/ml/input/data/training/"
    (expected,) = ultra.img2label_paths([root + image])
    assert root + label_path(image) == expected
    assert is_image(image)


def test_is_image_rules() -> None:
    assert is_image("a/B.JPG") and is_image("x.webp")
    assert not is_image("a/b.txt") and not is_image("a/jpg") and not is_image("a.gif")
