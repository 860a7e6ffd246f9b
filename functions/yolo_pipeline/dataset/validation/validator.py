"""Judge a YOLO dataset exactly as training will see it, on a local folder, a zip or S3.

Order of work: list the storage once, parse data.yaml (size-checked from the listing),
resolve each split to image paths from the listing alone (images are never downloaded),
pair images with labels by Ultralytics' rule, then read only the label files, with
bounded concurrency, keeping a small summary per file. Every problem is a ``Finding``.
"""

from __future__ import annotations

import dataclasses

from yolo_pipeline.contract import TRAINING_YAML
from yolo_pipeline.dataset.budget import CheckBudget
from yolo_pipeline.dataset.data_yaml import MAX_DATA_YAML_BYTES, DataYaml, parse_data_yaml
from yolo_pipeline.dataset.keypoints import check_flip_idx, kpt_shape_of
from yolo_pipeline.dataset.labels import label_path
from yolo_pipeline.dataset.storage.base import Storage, StorageError
from yolo_pipeline.dataset.storage.opener import open_location
from yolo_pipeline.dataset.storage.zip_reader import ArchiveError
from yolo_pipeline.dataset.validation.cross_checks import (
    check_channels,
    check_class_coverage,
    check_empty_images,
    check_image_named_folders,
    check_orphans,
    check_overlap,
    check_shared_labels,
    label_caches,
)
from yolo_pipeline.dataset.validation.index import ListingIndex
from yolo_pipeline.dataset.validation.label_pass import (
    judge_label_files,
    judge_splits,
    read_labels,
)
from yolo_pipeline.dataset.validation.report import MAX_LABEL_PROBLEMS, DatasetStats, Report
from yolo_pipeline.dataset.validation.splits import Pairs, ResolvedSplit, resolve_splits
from yolo_pipeline.dataset.validation.tasks.hooks import (
    DONE,
    POLYGONS,
    ReadOnce,
    classify_hook,
    dense_hook,
)
from yolo_pipeline.findings import Finding, error
from yolo_pipeline.training.config import MAX_BYTES as TRAINING_YAML_MAX_BYTES
from yolo_pipeline.training.tasks import TASKS, Task, requested_in_training_yaml, task_from_model


def validate_dataset(
    storage: Storage, data_yaml: str = "data.yaml", budget: CheckBudget | None = None
) -> Report:
    """Validate the dataset in ``storage`` whose config is ``data_yaml``; never raises.

    With a ``budget`` (the launcher's), a dataset too costly to check ends in one error
    that says what to do, never in a timeout; without one (the CLI), everything is read.
    """
    report = Report(location=storage.uri, valid=False)
    refused: Finding | None = None
    try:
        _validate(storage, data_yaml, report, budget)
    except ArchiveError as exc:  # a refused zip: named by its entry, never retried
        archive = storage.uri.rstrip("/").rsplit("/", 1)[-1]
        refused = error(exc.path or archive, str(exc), hint=exc.hint)
    except StorageError as exc:
        report.errors.append(error(data_yaml, str(exc), hint="check the location and access"))
    except Exception as exc:  # a report is always better than a traceback
        report.errors.append(
            error(
                data_yaml,
                f"internal error while validating: {type(exc).__name__}: {exc}",
                hint="please report this with the dataset layout",
            )
        )
    _name_in_archive(report, storage)
    if refused is not None:
        report.errors.append(refused)
    report.valid = not report.errors
    return report


def validate_location(location: str) -> Report:
    """Validate a folder, its data.yaml, or ``s3://bucket/prefix/``; never raises."""
    try:
        storage, name = open_location(location)
    except (FileNotFoundError, ValueError) as exc:
        return Report(
            location=location,
            valid=False,
            errors=[error(location, str(exc), hint="check the path")],
        )
    return validate_dataset(storage, name)


def _name_in_archive(report: Report, storage: Storage) -> None:
    """In a zip whose dataset sits in a top folder, name files as the archive does."""
    root = str(getattr(storage, "archive_root", ""))
    if root:
        for items in (report.errors, report.warnings):
            items[:] = [dataclasses.replace(f, file=root + f.file) for f in items]


def _validate(storage: Storage, data_yaml: str, report: Report, budget: CheckBudget | None) -> None:
    storage = ReadOnce(storage, data_yaml)  # the task hooks read data.yaml too
    files = storage.list_files()
    index = ListingIndex(files)
    report.stats = DatasetStats(files=len(files), bytes=sum(f.size for f in files))
    refused = _refused_entries(storage, report)
    if classify_hook(storage, data_yaml, index, report):
        return
    config = _read_config(storage, data_yaml, index, report, refused)
    if config is None:
        return
    report.stats = dataclasses.replace(
        report.stats, task="detect", classes=config.nc, names=tuple(config.names)
    )
    max_images = budget.max_split_images if budget is not None else None
    splits = resolve_splits(config, index, storage, report, data_yaml, max_images)
    if splits is None:
        return
    check_overlap(splits, report, data_yaml)
    check_empty_images(splits, index, report)
    report.errors += label_caches(index)
    report.add(check_channels(config, splits, data_yaml))
    report.warnings += check_image_named_folders(config, index, data_yaml)
    kpt_shape = kpt_shape_of(config.extras)
    task = _known_task(storage, index, kpt_shape is not None, report)
    if task == "pose" and kpt_shape is None:
        report.errors.append(_no_kpt_shape(data_yaml))
        return
    if task == "pose":
        report.errors += check_flip_idx(config.extras, config.key_lines.get("flip_idx"), data_yaml)
    dense = dense_hook(storage, index, splits, config, report, data_yaml, task)
    if dense == DONE:
        return
    task = "segment" if dense == POLYGONS else task  # semantic from polygon rows
    pairs = _pairs(splits)
    report.warnings += check_shared_labels(pairs, data_yaml)
    labels = read_labels(storage, index, pairs, config, kpt_shape, task, budget)
    report.stats = dataclasses.replace(report.stats, label_files_read=len(labels.results))
    if labels.stopped is not None:
        report.errors.append(labels.stopped)
        return
    judge_splits(splits, pairs, index, labels, report, data_yaml)
    judge_label_files(labels, report, "semantic" if dense == POLYGONS else task)
    per_class = {name: labels.per_class.get(i, 0) for i, name in enumerate(config.names)}
    report.stats = dataclasses.replace(report.stats, instances_per_class=per_class)
    check_class_coverage(config, report.stats.splits, pairs, labels.results, report, data_yaml)
    check_orphans(pairs, index, report)


def _pairs(splits: dict[str, ResolvedSplit]) -> Pairs:
    """(image, label path) per split; an image listed many times is mapped once."""
    labels: dict[str, str] = {}
    return {
        s.name: [
            (img, labels.get(img) or labels.setdefault(img, label_path(img))) for img in s.images
        ]
        for s in splits.values()
    }


def _refused_entries(storage: Storage, report: Report) -> set[str]:
    """Local entries the storage would not list (symlinks out, FIFOs...): one error each."""
    refused: list[tuple[str, str]] = list(getattr(storage, "refused", []))
    for path, why in refused[:MAX_LABEL_PROBLEMS]:
        report.errors.append(
            error(
                path,
                why,
                hint="only regular files inside the dataset folder are part of a dataset; "
                "copy the file in (or remove it)",
            )
        )
    if len(refused) > MAX_LABEL_PROBLEMS:
        report.errors.append(
            error(".", f"... and {len(refused) - MAX_LABEL_PROBLEMS} more files refused")
        )
    return {path for path, _ in refused}


def _read_config(
    storage: Storage, data_yaml: str, index: ListingIndex, report: Report, refused: set[str]
) -> DataYaml | None:
    info = index.by_path.get(data_yaml)
    if info is None:
        if data_yaml not in refused:
            report.errors.append(_no_data_yaml(data_yaml, index, storage.uri))
        return None
    if info.size > MAX_DATA_YAML_BYTES:  # before reading a byte of it
        report.errors.append(
            error(
                data_yaml,
                f"is {info.size:,} bytes; the limit is {MAX_DATA_YAML_BYTES:,}",
                hint="a data.yaml only needs paths and class names",
            )
        )
        return None
    parsed = parse_data_yaml(storage.read_bytes(data_yaml, MAX_DATA_YAML_BYTES), data_yaml)
    report.add(parsed.findings)
    report.config = parsed.config
    return parsed.config


def _known_task(
    storage: Storage, index: ListingIndex, has_kpt_shape: bool, report: Report
) -> Task | None:
    """The task before the rows are read: training.yaml's ``task:``, else its model's, else
    pose when data.yaml has ``kpt_shape``; None when the rows decide (training.tasks)."""
    explicit, model = None, None
    info = index.by_path.get(TRAINING_YAML)
    if info is not None and info.size <= TRAINING_YAML_MAX_BYTES:
        report.training_yaml = storage.read_bytes(TRAINING_YAML, TRAINING_YAML_MAX_BYTES)
        explicit, model = requested_in_training_yaml(report.training_yaml)
    if explicit in TASKS:
        return explicit
    named = task_from_model(model) if model else None
    return named or ("pose" if has_kpt_shape else None)


def _no_kpt_shape(file: str) -> Finding:
    return error(
        file,
        "kpt_shape: is required to train a pose model",
        field="kpt_shape",
        hint="add kpt_shape: [keypoints, dims] (e.g. [17, 3]), or train another task",
    )


def _no_data_yaml(name: str, index: ListingIndex, uri: str) -> Finding:
    if not index.files:
        return error(
            name,
            f"not found: {uri} is empty",
            hint="upload images/, labels/ and then data.yaml to this location",
        )
    deeper = [f.path for f in index.files if f.path.rsplit("/", 1)[-1] in {"data.yaml", "data.yml"}]
    hint = "upload data.yaml last, after images and labels"
    if deeper:
        hint = (
            f"found {deeper[0]}: point at that folder instead (the dataset was uploaded one "
            "folder too deep?)"
        )
    others = [
        f.path for f in index.files if "/" not in f.path and f.path.endswith((".yaml", ".yml"))
    ]
    if others and not deeper:
        hint = f"found {others[0]}: rename it to {name}"
    return error(name, f"not found in {uri}", hint=hint)
