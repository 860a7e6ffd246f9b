"""Generated datasets judged by the validator and by Ultralytics' own dataset code: where
Ultralytics trains, the validator accepts (with a precise warning where data is odd); where it
fails or loses images, the validator refuses. Dataset code only, no training."""

from __future__ import annotations

import types
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.support.dataset_factory import (
    FAKE_JPEG,
    data_yaml,
    detect_dataset,
    task_dataset,
    with_changes,
    write_local,
)
from yolo_pipeline.dataset.data_yaml import parse_data_yaml, sanitized_data_yaml
from yolo_pipeline.dataset.validation import Report, validate_location

pytest.importorskip("ultralytics")
NAMES = ["a", "b", "c"]


def _validate(root: Path) -> Report:
    return validate_location(str(root))


def _texts(findings: list[Any]) -> str:
    return "\n".join(map(str, findings))


def _ultralytics_images(root: Path, entries: list[str]) -> list[str]:
    """The image list Ultralytics builds for one split (``BaseDataset.get_img_files``)."""
    from ultralytics.data.base import BaseDataset

    # get_img_files reads only these two attributes: no dataset (and no images) is loaded.
    reader: Any = types.SimpleNamespace(prefix="", fraction=1.0)
    return BaseDataset.get_img_files(reader, [str(root / e) for e in entries])


def _ultralytics_data(root: Path) -> dict[str, Any]:
    from ultralytics.data.utils import check_det_dataset

    return check_det_dataset(str(root / "data.yaml"), autodownload=False)


def test_a_dos_ctrl_z_is_stripped_as_ultralytics_strips_it(tmp_path: Path) -> None:
    files = detect_dataset()
    files["data.yaml"] = files["data.yaml"] + b"\x1a"
    root = write_local(tmp_path / "ds", files)
    report = _validate(root)
    assert report.valid, report.render_text()
    assert "Ctrl-Z" in _texts(report.warnings)
    assert report.config is not None
    assert list(_ultralytics_data(root)["names"].values()) == report.config.names


def test_data_yaml_that_is_not_utf8_stays_an_error(tmp_path: Path) -> None:
    """A deliberate difference: Ultralytics ignores the bad bytes and mangles the names."""
    files = detect_dataset()
    files["data.yaml"] = b"train: images/train\nval: images/val\nnames: [caf\xe9]\n"  # latin-1
    report = _validate(write_local(tmp_path / "ds", files))
    assert not report.valid
    assert "not UTF-8" in _texts(report.errors)


def test_an_empty_test_split_is_skipped(tmp_path: Path) -> None:
    files = with_changes(
        detect_dataset(),
        **{"data.yaml": data_yaml(train="images/train", val="images/val", test="", names=NAMES)},
    )
    root = write_local(tmp_path / "ds", files)
    report = _validate(root)
    assert report.valid, report.render_text()
    assert "test" not in report.stats.splits
    assert not _ultralytics_data(root)["test"]  # Ultralytics never resolves it


def test_names_read_as_booleans_or_empty_are_warned_and_named_as_ultralytics_names_them(
    tmp_path: Path,
) -> None:
    files = detect_dataset()
    files["data.yaml"] = b"train: images/train\nval: images/val\nnames: [yes, '', off]\n"
    root = write_local(tmp_path / "ds", files)
    report = _validate(root)
    assert report.valid, report.render_text()
    text = _texts(report.warnings)
    assert "entry 1 is empty" in text
    assert "entries 0, 2 are read by YAML as a boolean" in text
    assert report.config is not None
    assert list(_ultralytics_data(root)["names"].values()) == report.config.names


@pytest.mark.parametrize(
    ("train", "lines"),
    [
        (["images", "images/train"], None),  # overlapping folders
        (["train.txt"], 2),  # every line of the list twice
    ],
    ids=["overlapping-folders", "repeated-lines"],
)
def test_repeats_are_counted_as_ultralytics_trains_them(
    tmp_path: Path, train: list[str], lines: int | None
) -> None:
    files = detect_dataset(n_train=4, n_val=2)
    if lines:
        images = sorted(p for p in files if p.startswith("images/train/"))
        files["train.txt"] = "".join(f"./{p}\n" for p in images * lines).encode()
    files["data.yaml"] = data_yaml(train=train, val="images/val", names=NAMES)
    root = write_local(tmp_path / "ds", files)
    report = _validate(root)
    assert report.valid, report.render_text()
    assert report.stats.splits["train"].images == len(_ultralytics_images(root, train))


def test_a_folder_named_like_an_image_is_named(tmp_path: Path) -> None:
    from ultralytics.data.utils import img2label_paths, verify_image_label

    files = detect_dataset(n_train=4, n_val=2)
    files["images/train/scan.tif/page.jpg"] = FAKE_JPEG
    root = write_local(tmp_path / "ds", files)
    report = _validate(root)
    assert "named like images" in _texts(report.warnings), report.render_text()
    listed = _ultralytics_images(root, ["images/train"])
    folder = str(root / "images/train/scan.tif")
    assert folder in listed  # Ultralytics lists the folder as an image ...
    [label] = img2label_paths([folder])
    verdict = verify_image_label((folder, label, "", False, 3, 0, 0, False))
    assert verdict[8] == 1  # ... and drops it as corrupt


def test_two_images_of_one_stem_share_a_label_file(tmp_path: Path) -> None:
    from ultralytics.data.utils import img2label_paths

    files = detect_dataset(n_train=4, n_val=2)
    first = sorted(p for p in files if p.startswith("images/train/"))[0]
    twin = first.rsplit(".", 1)[0] + ".png"
    files[twin] = files[first]
    root = write_local(tmp_path / "ds", files)
    report = _validate(root)
    assert report.valid, report.render_text()
    assert "serve two images of one name" in _texts(report.warnings)
    a, b = img2label_paths([str(root / first), str(root / twin)])
    assert a == b


def test_flip_idx_is_ignored_when_the_task_is_not_pose(tmp_path: Path) -> None:
    files = task_dataset("pose")
    config = yaml.safe_load(files["data.yaml"])
    config["flip_idx"] = [0]  # wrong for any kpt_shape with more than one keypoint
    files["data.yaml"] = yaml.safe_dump(config).encode()
    as_pose = _validate(write_local(tmp_path / "pose", files))
    assert "flip_idx" in _texts(as_pose.errors)
    files["training.yaml"] = b"task: detect\n"
    root = write_local(tmp_path / "detect", files)
    as_detect = _validate(root)
    assert as_detect.valid, as_detect.render_text()
    assert _ultralytics_data(root)["flip_idx"] == [0]  # a list: Ultralytics takes it, unread


@pytest.mark.parametrize(("channels", "valid"), [(3, True), (1, True), (4, False), ("four", False)])
def test_channels_other_than_1_or_3_over_jpegs_are_refused(
    tmp_path: Path, channels: object, valid: bool
) -> None:
    files = detect_dataset()
    config = yaml.safe_load(files["data.yaml"])
    config["channels"] = channels
    files["data.yaml"] = yaml.safe_dump(config).encode()
    report = _validate(write_local(tmp_path / "ds", files))
    assert report.valid is valid, report.render_text()
    if not valid:
        assert any(f.field == "channels" for f in report.errors)


def test_channels_4_over_png_is_a_warning(tmp_path: Path) -> None:
    files = detect_dataset(suffix=".png")
    config = yaml.safe_load(files["data.yaml"])
    config["channels"] = 4
    files["data.yaml"] = yaml.safe_dump(config).encode()
    report = _validate(write_local(tmp_path / "ds", files))
    assert report.valid, report.render_text()
    assert any(f.field == "channels" for f in report.warnings)


def test_the_sanitized_copy_of_a_stripped_data_yaml_loads_in_ultralytics(tmp_path: Path) -> None:
    from ultralytics.data.utils import check_det_dataset

    root = write_local(tmp_path / "ds", detect_dataset())
    parsed = parse_data_yaml((root / "data.yaml").read_bytes() + b"\x1a\x1a")
    assert parsed.config is not None
    target = tmp_path / "clean.yaml"
    target.write_text(yaml.safe_dump(sanitized_data_yaml(parsed.config, str(root))))
    assert check_det_dataset(str(target), autodownload=False)["nc"] == parsed.config.nc
