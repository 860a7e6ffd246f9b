"""Classify, semantic and depth datasets, checked as Ultralytics 8.4 reads them
(ultralytics/data/utils.py check_cls_dataset, verify_image_mask, verify_image_depth). Each
rule's test names the Ultralytics message it mirrors."""

from __future__ import annotations

import tracemalloc
from pathlib import Path

import pytest

from tests.support.dataset_factory import task_dataset, write_local
from tests.support.task_files import (
    classify_files,
    depth_files,
    npy_bytes,
    png_bomb,
    png_bytes,
    png_header_only,
    rgb_image,
    semantic_files,
)
from tests.support.zip_factory import write_zip
from yolo_pipeline.dataset.validation import validate_location
from yolo_pipeline.dataset.validation.report import Report
from yolo_pipeline.dataset.validation.tasks.semantic import PixelBudget, read_mask


def _check(tmp_path: Path, files: dict[str, bytes]) -> Report:
    return validate_location(str(write_local(tmp_path / "ds", files)))


def _errors(report: Report) -> str:
    return "\n".join(str(f) for f in report.errors)


# --------------------------------------------------------------------------- inference


@pytest.mark.parametrize(
    ("files", "expected"),
    [
        (task_dataset("detect"), "detect"),
        (task_dataset("segment"), "segment"),  # polygon rows
        (task_dataset("pose"), "pose"),  # kpt_shape in data.yaml
        (task_dataset("obb"), "obb"),  # task: obb in training.yaml
        (classify_files(), "classify"),  # data.yaml: task: classify
        (semantic_files(), "semantic"),  # masks_dir
        (depth_files(), "depth"),  # depth_scale
        ({**task_dataset("detect"), "training.yaml": b"model: yolo26n-sem.pt\n"}, "semantic"),
        ({**depth_files(), "training.yaml": b"task: depth\n"}, "depth"),
    ],
)
def test_the_task_of_each_of_the_seven(
    tmp_path: Path, files: dict[str, bytes], expected: str
) -> None:
    report = _check(tmp_path, files)
    assert report.stats.task == expected
    if expected != "semantic" or "masks/train/0.png" in files:
        assert report.valid, _errors(report)


def test_validate_json_reports_the_task(tmp_path: Path) -> None:
    for name, files in (("c", classify_files()), ("s", semantic_files()), ("d", depth_files())):
        stats = validate_location(str(write_local(tmp_path / name, files))).to_dict()["stats"]
        assert stats["task"] in {"classify", "semantic", "depth"}


# --------------------------------------------------------------------------- classify


def test_classify_folder_counts_images_per_class(tmp_path: Path) -> None:
    report = _check(tmp_path, classify_files(("cat", "dog", "eel")))
    assert report.valid, _errors(report)
    assert report.stats.names == ("cat", "dog", "eel") and report.stats.classes == 3
    assert report.stats.splits["train"].images == 9 and report.stats.splits["val"].images == 6


def test_classify_zip_needs_no_data_yaml(tmp_path: Path) -> None:
    files = classify_files()
    del files["data.yaml"]
    for top in ("", "pets/"):
        report = validate_location(str(write_zip(tmp_path / f"pets{len(top)}.zip", files, top)))
        assert report.valid and report.stats.task == "classify", _errors(report)


def test_classify_without_training_images(tmp_path: Path) -> None:
    # check_cls_dataset: "'train:' no training images found"
    files = {k: v for k, v in classify_files().items() if not k.startswith("train/")}
    files["train/loose.png"] = rgb_image()
    report = _check(tmp_path, files)
    assert not report.valid and "no training images found" in _errors(report)


def test_classify_val_class_that_train_lacks(tmp_path: Path) -> None:
    # ClassificationDataset: "Skipping N samples from classes the model lacks"
    files = {**classify_files(), "val/eel/eel_0.png": rgb_image()}
    report = _check(tmp_path, files)
    assert "classes the model lacks" in _errors(report) and "'eel'" in _errors(report)


def test_classify_falls_back_to_test_like_ultralytics(tmp_path: Path) -> None:
    # check_cls_dataset: "Dataset 'split=val' not found, using 'split=test' instead."
    files = {k.replace("val/", "test/"): v for k, v in classify_files().items()}
    report = _check(tmp_path, files)
    assert report.valid and any("split=test" in f.hint for f in report.warnings)


def test_classify_names_are_checked_against_the_folders(tmp_path: Path) -> None:
    files = {**classify_files(), "data.yaml": b"task: classify\nnames: [cat, cow]\n"}
    assert "do not match the class folders" in _errors(_check(tmp_path / "a", files))
    files["data.yaml"] = b"task: classify\nnames: [dog, cat]\n"  # sorted folder order rules
    assert "sorted folder name" in _errors(_check(tmp_path / "b", files))
    files["data.yaml"] = b"task: classify\nnames: {0: cat, 1: dog}\n"
    assert _check(tmp_path / "c", files).valid


def test_classify_empty_subfolders_are_bounded_and_ignored(tmp_path: Path) -> None:
    root = write_local(tmp_path / "ds", classify_files())
    for i in range(100_000):
        (root / "train" / "cat" / f"empty{i}").mkdir()
    report = validate_location(str(root))  # one walk of the tree; folders are not classes
    assert report.valid and report.stats.classes == 2 and report.stats.splits["train"].images == 6


# --------------------------------------------------------------------------- semantic


def test_semantic_masks_with_every_png_filter(tmp_path: Path) -> None:
    report = _check(tmp_path, semantic_files(nc=3))
    assert report.valid, _errors(report)
    assert report.stats.splits["train"].labelled == 3


def test_semantic_missing_mask(tmp_path: Path) -> None:
    # verify_image_mask: "ignoring image with missing mask"
    files = semantic_files()
    del files["masks/train/1.png"]
    assert "missing mask" in _errors(_check(tmp_path, files))


def test_semantic_mask_of_another_size(tmp_path: Path) -> None:
    # verify_image_mask: "mask size (h, w) does not match image size (h, w)"
    files = {**semantic_files(), "masks/val/0.png": png_bytes(20, 16)}
    assert "mask size (16, 20) does not match image size (16, 16)" in _errors(
        _check(tmp_path, files)
    )


def test_semantic_ids_past_nc(tmp_path: Path) -> None:
    # verify_image_mask: "mask ids [...] are not dataset class ids or 255 ignore"
    files = {
        **semantic_files(nc=3),
        "masks/train/2.png": png_bytes(16, 16, lambda x, y: 7 if x else 255),
    }
    errors = _errors(_check(tmp_path, files))
    assert (
        "mask ids [7] are not dataset class ids or 255 ignore" in errors
        and "masks/train/2.png" in errors
    )


def test_semantic_sixteen_bit_ids_above_255(tmp_path: Path) -> None:
    files = {**semantic_files(), "masks/train/0.png": png_bytes(16, 16, lambda x, y: 300, depth=16)}
    assert "[300]" in _errors(_check(tmp_path, files))


def test_semantic_label_mapping(tmp_path: Path) -> None:
    # SemanticDataset: raw ids map through label_mapping; ignore_label is 255
    mapping = "label_mapping:\n  0: ignore_label\n  1: 0\n  2: 1\n  3: 2\n"
    files = semantic_files(nc=3, extra_yaml=mapping)
    for path in [p for p in files if p.startswith("masks/")]:
        files[path] = png_bytes(16, 16, lambda x, y: x // 4)  # raw ids 0..3
    assert _check(tmp_path / "ok", files).valid
    files["data.yaml"] = files["data.yaml"].replace(b"3: 2", b"3: 9")
    assert "maps 3 to 9, outside the 3 classes" in _errors(_check(tmp_path / "bad", files))


def test_semantic_colour_and_palette_masks(tmp_path: Path) -> None:
    rgb = {**semantic_files(), "masks/train/0.png": rgb_image()}
    assert "colour PNG" in _errors(_check(tmp_path / "rgb", rgb))
    grey = [(i, i, i) for i in range(256)]  # a grey palette holds grey levels, read as ids
    files = semantic_files()
    files["masks/train/0.png"] = png_bytes(16, 16, lambda x, y: 1, color=3, palette=grey)
    assert _check(tmp_path / "grey", files).valid
    colours = [(0, 0, 0), (255, 0, 0), (0, 255, 0), (9, 9, 200)]  # VOC-style: indices are ids
    files["masks/train/0.png"] = png_bytes(16, 16, lambda x, y: 3, color=3, palette=colours)
    assert "mask ids [3]" in _errors(_check(tmp_path / "voc", files))


def test_semantic_binary_keeps_zero_and_one(tmp_path: Path) -> None:
    # SemanticDataset.verify_args: nc=1 keeps {0, 1}
    files = semantic_files(nc=1)
    for path in [p for p in files if p.startswith("masks/")]:
        files[path] = png_bytes(16, 16, lambda x, y: x % 2, depth=1)
    assert _check(tmp_path, files).valid


def test_a_100_megapixel_mask_is_refused_unread(tmp_path: Path) -> None:
    files = {**semantic_files(), "masks/train/0.png": png_header_only(10_000, 10_000)}
    tracemalloc.start()
    errors = _errors(_check(tmp_path, files))
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert "10000x10000 pixels (100 megapixels); the limit is" in errors
    assert peak < 50 * 1024 * 1024


def test_a_decompression_bomb_stops_at_the_promised_size(tmp_path: Path) -> None:
    files = {**semantic_files(), "masks/train/0.png": png_bomb(16, 16)}
    tracemalloc.start()
    errors = _errors(_check(tmp_path, files))
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert "more pixel data than its size says" in errors
    assert peak < 50 * 1024 * 1024  # 512 MB of zeros never inflated


def test_a_damaged_mask(tmp_path: Path) -> None:
    files = {**semantic_files(), "masks/train/0.png": png_bytes(16, 16)[:45]}
    assert "masks/train/0.png" in _errors(_check(tmp_path, files))


# --------------------------------------------------------------------------- depth


@pytest.mark.parametrize("npy", [False, True])
def test_depth_png_and_npy(tmp_path: Path, npy: bool) -> None:
    report = _check(tmp_path, depth_files(npy=npy))
    assert report.valid and report.stats.task == "depth", _errors(report)


def test_depth_png_must_be_sixteen_bit_grey(tmp_path: Path) -> None:
    # verify_image_depth: "depth map ... must be an integer grayscale PNG"
    files = {**depth_files(), "depth/train/0.png": png_bytes(16, 16)}
    assert "must be an integer grayscale PNG" in _errors(_check(tmp_path, files))


def test_depth_aspect_ratio(tmp_path: Path) -> None:
    # verify_image_depth: "depth map shape ... does not match image shape ..."
    files = {**depth_files(), "depth/val/1.png": png_bytes(32, 16, depth=16)}
    assert "depth map shape (16, 32) does not match image shape (16, 16)" in _errors(
        _check(tmp_path, files)
    )
    files["depth/val/1.png"] = png_bytes(32, 32, depth=16)  # same aspect, other size: fine
    assert _check(tmp_path / "scaled", files).valid


def test_missing_depth_map(tmp_path: Path) -> None:
    files = depth_files()
    del files["depth/train/2.png"]
    assert "missing depth map" in _errors(_check(tmp_path, files))


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (npy_bytes((16, 16), "|O", b"\x80\x04K\x01."), "holds Python objects (a pickle)"),
        (
            npy_bytes((4000, 4000), body=bytes(1024)),
            "is 1,152 bytes but its header promises",
        ),  # a lying header
        (npy_bytes((16, 16, 1)), "depth NPY must be 2D and floating-point"),
        (npy_bytes((16, 16), "<i4"), "depth NPY must be 2D and floating-point"),
        (b"\x93NUMPY\x01\x00\x20\x00{'descr': __import__('os')}      \n", "not a plain literal"),
        (b"PK\x03\x04 not numpy", "not a .npy file"),
    ],
)
def test_hostile_npy_is_refused_from_its_header(
    tmp_path: Path, content: bytes, expected: str
) -> None:
    files = depth_files(npy=True)
    files["depth/train/0.npy"] = content
    report = _check(tmp_path, files)
    assert expected in _errors(report) and "depth/train/0.npy" in _errors(report)


def test_depth_scale_must_be_positive(tmp_path: Path) -> None:
    files = depth_files()
    files["data.yaml"] = files["data.yaml"].replace(b"depth_scale: 1000", b"depth_scale: -5")
    assert "depth_scale must be a positive finite number" in _errors(_check(tmp_path, files))


def test_mask_and_depth_headers_cost_no_decoding(tmp_path: Path) -> None:
    files = {**depth_files(), "depth/train/0.png": png_header_only(10_000, 10_000, depth=16)}
    assert "megapixels" in _errors(_check(tmp_path, files))


def test_mask_ids_past_the_pixel_budget_are_left_to_training(tmp_path: Path) -> None:
    budget = PixelBudget(300)
    first = read_mask(png_bytes(16, 16, lambda x, y: 1), budget)
    second = read_mask(png_bytes(16, 16, lambda x, y: 1), budget)
    assert first.ids == {1} and first.ids_checked
    assert not second.ids_checked and not second.problem
    assert "more pixel data" in read_mask(png_bomb(16, 16, 64 << 20), PixelBudget(0)).problem


def test_an_uploaded_split_cache_is_refused_for_classify(tmp_path: Path) -> None:
    # ClassificationDataset loads <split>.cache next to the split with pickle
    files = {**classify_files(), "train.cache": b"\x80\x04N."}
    assert "label cache: a pickle" in _errors(_check(tmp_path, files))


def test_semantic_from_polygon_labels(tmp_path: Path) -> None:
    # PolygonSemanticDataset: without masks_dir (and no masks/ folder) polygons are rasterised
    files = {**task_dataset("segment"), "training.yaml": b"task: semantic\n"}
    report = _check(tmp_path, files)
    assert report.valid and report.stats.task == "semantic", _errors(report)


def test_folders_alone_tell_semantic_and_depth_apart_from_detect(tmp_path: Path) -> None:
    semantic = semantic_files()
    semantic["data.yaml"] = semantic["data.yaml"].replace(b"masks_dir: masks\n", b"")
    assert _check(tmp_path / "s", semantic).stats.task == "semantic"  # a masks/ folder
    depth = depth_files()
    depth["data.yaml"] = depth["data.yaml"].replace(b"depth_scale: 1000\n", b"")
    assert _check(tmp_path / "d", depth).stats.task == "depth"  # a depth/ folder
    detect = {**task_dataset("detect"), "masks/readme.txt": b"unrelated"}
    assert _check(tmp_path / "b", detect).stats.task == "detect"  # label rows decide
