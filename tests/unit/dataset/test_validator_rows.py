"""The validator judges as Ultralytics trains: one test per rule Ultralytics applies."""

from __future__ import annotations

from pathlib import Path

import yaml

from tests.support.dataset_factory import (
    FAKE_JPEG,
    data_yaml,
    detect_dataset,
    with_changes,
    write_local,
)
from yolo_pipeline.container.list_files import with_resolved_lists
from yolo_pipeline.dataset.data_yaml import list_line_path, parse_data_yaml, sanitized_data_yaml
from yolo_pipeline.dataset.storage.local import LocalStorage
from yolo_pipeline.dataset.validation import Report, validate_dataset


def run(tmp_path: Path, files: dict[str, bytes]) -> Report:
    return validate_dataset(LocalStorage(write_local(tmp_path / "ds", files)))


def _list_dataset(lines: list[str]) -> dict[str, bytes]:
    files = detect_dataset(n_train=4, n_val=2)
    changes: dict[str, bytes | str | None] = {
        "train.txt": "\n".join(lines) + "\n",
        "data.yaml": data_yaml(train="train.txt", val="images/val", names=["a", "b", "c"]),
    }
    return with_changes(files, **changes)


def test_list_lines_with_trailing_spaces_are_not_images(tmp_path: Path) -> None:
    lines = [f"images/train/train_0000{i}.jpg  " for i in (1, 2, 3)]
    lines += ["images/train/train_00000.jpg"]
    report = run(tmp_path, _list_dataset(lines))
    assert report.valid, report.render_text()
    assert report.stats.splits["train"].images == 1  # Ultralytics uses 1, not 4
    assert "3 line(s) start or end with spaces" in "\n".join(map(str, report.warnings))


def test_the_whole_list_is_stripped_first_as_ultralytics_does(tmp_path: Path) -> None:
    """``f.read().strip().splitlines()``: the LAST line's trailing spaces go."""
    lines = ["images/train/train_00000.jpg  ", "images/train/train_00001.jpg  "]
    report = run(tmp_path, _list_dataset(lines))
    assert report.stats.splits["train"].images == 1


def test_list_line_path_follows_ultralytics() -> None:
    assert list_line_path("lists/train.txt", "./a/x.jpg") == ("lists/a/x.jpg", None)
    assert list_line_path("lists/train.txt", "images/x.jpg") == ("images/x.jpg", None)
    assert list_line_path("train.txt", "images/x.jpg ") == (None, None)
    assert list_line_path("train.txt", "notes.md") == (None, None)
    path, problem = list_line_path("train.txt", "/etc/x.jpg")
    assert path is None and problem and "absolute" in problem


def test_the_container_trains_the_validated_list(tmp_path: Path) -> None:
    """Bare lines resolve against the dataset root in a copy, as absolute paths."""
    lines = ["images/train/train_00000.jpg", "x.jpg  ", "./images/train/train_00001.jpg"]
    root = write_local(tmp_path / "ds", _list_dataset(lines))
    report = validate_dataset(LocalStorage(root))
    assert report.valid and report.config is not None
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    data = with_resolved_lists(sanitized_data_yaml(report.config, str(root)), root, scratch)
    copy = Path(data["train"])
    assert copy.parent == scratch and data["val"] == "images/val"
    listed = copy.read_text().splitlines()
    assert listed == [
        str((root / "images/train/train_00000.jpg").resolve()),
        str((root / "images/train/train_00001.jpg").resolve()),
    ]
    assert len(listed) == report.stats.splits["train"].images
    assert (root / "train.txt").read_text().splitlines() == lines  # the upload is unchanged
    yaml.safe_dump(data)


def test_a_missing_test_split_is_a_warning(tmp_path: Path) -> None:
    files = with_changes(
        detect_dataset(),
        **{
            "data.yaml": data_yaml(
                train="images/train", val="images/val", test="images/test", names=["a", "b", "c"]
            )
        },
    )
    report = run(tmp_path, files)
    assert report.valid, report.render_text()
    assert "the test split is skipped" in "\n".join(map(str, report.warnings))
    assert "test" not in report.stats.splits


def test_a_zero_byte_image_is_reported(tmp_path: Path) -> None:
    files = with_changes(detect_dataset(), **{"images/train/train_00001.jpg": b""})
    report = run(tmp_path, files)
    assert not report.valid
    assert "images/train/train_00001.jpg: is an empty (0-byte) file" in report.render_text()
    assert FAKE_JPEG  # the other images are not empty


def test_python_float_syntax_is_accepted_as_ultralytics_does(tmp_path: Path) -> None:
    files = with_changes(
        detect_dataset(),
        **{"labels/train/train_00000.txt": "0 0.1_5 0.5 0.2 1.010000001\n"},
    )
    assert run(tmp_path, files).valid


def test_negative_width_within_tolerance_is_an_error(tmp_path: Path) -> None:
    files = with_changes(
        detect_dataset(), **{"labels/train/train_00000.txt": "0 0.5 0.5 -0.005 0.2\n"}
    )
    report = run(tmp_path, files)
    assert not report.valid and "has a negative width" in report.render_text()


def test_the_two_rejection_policies(tmp_path: Path) -> None:
    """Documented in the README: train with no labels at all, val with no label files."""
    files = detect_dataset()
    no_train_labels = {k: v for k, v in files.items() if not k.startswith("labels/train/")}
    assert "train has" in run(tmp_path / "a", no_train_labels).render_text()
    no_val_labels = {k: v for k, v in files.items() if not k.startswith("labels/val/")}
    report = run(tmp_path / "b", no_val_labels)
    assert not report.valid and "val has 2 images but no label files" in report.render_text()


def test_nc_bound_reaches_the_report(tmp_path: Path) -> None:
    files = with_changes(
        detect_dataset(), **{"data.yaml": "train: images/train\nval: images/val\nnc: 20000000\n"}
    )
    report = run(tmp_path, files)
    assert not report.valid and "it must be from 1 to 10,000" in report.render_text()
    assert parse_data_yaml("train: a\nval: b\nnc: 3\n").config is not None
