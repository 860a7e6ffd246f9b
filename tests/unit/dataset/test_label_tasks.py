"""Label rows by task, as Ultralytics applies them (ultralytics/data/utils.py verify_image_label
and ultralytics/data/dataset.py verify_labels), each finding naming file and line."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.dataset_factory import task_dataset, write_local
from yolo_pipeline.dataset.data_yaml import parse_data_yaml
from yolo_pipeline.dataset.keypoints import check_flip_idx
from yolo_pipeline.dataset.labels import check_label_file
from yolo_pipeline.dataset.validation import validate_location

NAMES = ["a", "b", "c"]
POSE = "0 0.5 0.5 0.2 0.2 0.45 0.45 2 0.5 0.5 2 0.55 0.55 1"  # kpt_shape [3, 3]
OBB = "0 0.2 0.3 0.3 0.35 0.25 0.5 0.15 0.45"
POLYGON = "0 0.1 0.1 0.3 0.1 0.2 0.3"

# (task, kpt_shape, row, expected problem or None); every case is also run by Ultralytics.
CASES = [
    ("pose", (3, 3), POSE, None),
    ("pose", (3, 2), "0 0.5 0.5 0.2 0.2 0.45 0.45 0.5 0.5 0.55 0.55", None),
    ("pose", (3, 3), "0 0.5 0.5 0.2 0.2", "a box without keypoints"),
    ("pose", (3, 3), POSE + " 0.5", "has 15 columns; a pose row has 14"),
    ("pose", (3, 3), POSE.replace("0.55 0.55", "1.2 0.55"), "keypoint coordinate 1.2"),
    ("pose", (3, 3), POSE.replace("0.45 0.45", "-0.3 0.45"), "outside [0, 1]"),
    ("pose", (3, 3), POSE.replace("0.45 0.45 2", "-1 -1 0"), "keypoint written as -1"),
    # 17 keypoints x 3 without kpt_shape: not a polygon (55 coordinates), a missing kpt_shape.
    ("detect", None, "0 0.5 0.5 0.2 0.2" + " 0.5 0.5 2" * 17, "but data.yaml has no kpt_shape"),
    # Pose checks the keypoints, not the box: a box edge past the image is fine.
    ("pose", (3, 3), POSE.replace("0.5 0.5 0.2 0.2", "0.95 0.5 0.2 0.2"), None),
    ("pose", (3, 3), POSE.replace("0.5 0.5 0.2 0.2", "1.05 0.5 0.2 0.2"), None),
    ("obb", None, OBB, None),
    # A file of plain boxes stops an OBB training (not a dropped image).
    ("obb", None, "0 0.5 0.5 0.2 0.2", "an OBB training fails on such a file"),
    # Any polygon: Ultralytics trains its minimum-area rectangle.
    ("obb", None, POLYGON, None),
    ("obb", None, "0 0.2 0.3 0.3 0.35 0.25", "an OBB row is class + 4 corners"),
    ("obb", None, "0 -0.005 0.3 0.3 0.35 0.25 0.5 0.15 0.45", None),  # slightly outside
    ("segment", None, POLYGON, None),
    # A polygon is checked through its box, so points slightly outside the image pass.
    ("segment", None, "0 -0.05 0.1 0.3 0.1 0.2 1.05", None),
    ("segment", None, "0 0.1 0.1 1.9 0.1 0.2 0.3", "polygon's box coordinate"),
    ("detect", None, "0 0.5 0.5 0.2 -0.005", "negative width or height"),
    ("detect", None, "0 1.005 0.5 0.2 0.2", None),
]


@pytest.mark.parametrize(("task", "kpt", "row", "expected"), CASES)
def test_row_rules(task: str, kpt: tuple[int, int] | None, row: str, expected: str | None) -> None:
    result = check_label_file("labels/train/x.txt", (row + "\n").encode(), NAMES, kpt, task)
    found = "\n".join(map(str, result.problems))
    if expected is None:
        assert result.ok, found
    else:
        assert expected in found
        assert "labels/train/x.txt:1:" in found  # file and line


@pytest.mark.parametrize(("task", "kpt", "row", "expected"), CASES)
def test_verdicts_match_ultralytics(
    tmp_path: Path, task: str, kpt: tuple[int, int] | None, row: str, expected: str | None
) -> None:
    utils = pytest.importorskip("ultralytics.data.utils")
    from PIL import Image

    image = tmp_path / "images" / "x.jpg"
    image.parent.mkdir()
    Image.new("RGB", (32, 32)).save(image)
    label = tmp_path / "labels" / "x.txt"
    label.parent.mkdir()
    label.write_text(row + "\n", encoding="utf-8")
    nkpt, ndim = kpt or (0, 0)
    result = utils.verify_image_label(
        (str(image), str(label), "", task == "pose", len(NAMES), nkpt, ndim, False)
    )
    corrupt = bool(result[8])
    if task in {"obb", "segment"} and not corrupt and result[3] == []:
        # box-only: a segment set refuses "equal numbers of boxes and segments"; an OBB
        # training stops (both refused here, by different words)
        corrupt = True
    assert corrupt == (expected is not None), result[9]


def test_segment_files_with_only_boxes_are_errors_naming_the_file(tmp_path: Path) -> None:
    files = task_dataset("segment")
    files["labels/train/train_00001.txt"] = b"0 0.5 0.5 0.1 0.1\n"
    files["training.yaml"] = b"model: yolo11n-seg.pt\n"
    report = validate_location(str(write_local(tmp_path, files)))
    assert not report.valid and report.stats.task != "detect"
    text = "\n".join(map(str, report.errors))
    assert "labels/train/train_00001.txt:1: holds only boxes" in text


def test_pose_dataset_needs_kpt_shape(tmp_path: Path) -> None:
    files = task_dataset("detect")
    files["training.yaml"] = b"task: pose\n"
    report = validate_location(str(write_local(tmp_path, files)))
    assert "kpt_shape: is required" in "\n".join(map(str, report.errors))


def test_box_rows_in_a_pose_set_are_errors_with_file_and_line(tmp_path: Path) -> None:
    files = task_dataset("pose")
    path = "labels/train/train_00002.txt"
    files[path] += b"1 0.5 0.5 0.1 0.1\n"
    report = validate_location(str(write_local(tmp_path, files)))
    assert not report.valid
    assert f"{path}:4: is a box without keypoints" in "\n".join(map(str, report.errors))


@pytest.mark.parametrize(
    ("extra", "expected"),
    [
        ("kpt_shape: [3, 3]\nflip_idx: [0, 2, 1]\n", None),
        ("kpt_shape: [3, 3]\nflip_idx: [0, 1]\n", "data.yaml:5: flip_idx: has 2 entries; kpt"),
        ("kpt_shape: [3, 3]\nflip_idx: [0, 1, 7]\n", "data.yaml:5: flip_idx: holds values"),
        ("kpt_shape: [3, 4]\n", "data.yaml:4: kpt_shape: '[3, 4]' is not [keypoints, dims]"),
        ("kpt_shape: 17\n", "data.yaml:4: kpt_shape: '17' is not [keypoints, dims]"),
        ("flip_idx: 3\n", "data.yaml:4: flip_idx: is not a list"),
    ],
)
def test_kpt_shape_and_flip_idx(extra: str, expected: str | None) -> None:
    """kpt_shape and flip_idx's type at parse time; flip_idx's fit under pose (the task)."""
    parsed = parse_data_yaml("train: a\nval: b\nnames: [x]\n" + extra)
    findings = list(parsed.errors)
    if parsed.config is not None:
        line = parsed.config.key_lines.get("flip_idx")
        findings += check_flip_idx(parsed.config.extras, line, "data.yaml")
    errors = [str(f) for f in findings]
    if expected is None:
        assert errors == []
    else:
        assert any(e.startswith(expected) for e in errors), errors


def test_an_uploaded_label_cache_is_refused(tmp_path: Path) -> None:
    files = task_dataset("detect")
    files["labels/train.cache"] = b"\x80\x04 a pickle"
    report = validate_location(str(write_local(tmp_path, files)))
    assert not report.valid
    assert "labels/train.cache: is an Ultralytics label cache" in "\n".join(map(str, report.errors))
