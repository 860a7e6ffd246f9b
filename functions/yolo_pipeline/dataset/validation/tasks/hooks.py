"""Where the validator hands a dataset to the checks of the tasks without label rows.

Two hooks, each one call from the validator: :func:`classify_hook` before data.yaml is
parsed as a YOLO data.yaml (a classification data.yaml holds no splits), and
:func:`dense_hook` once the splits are known (semantic masks and depth maps pair with the
images as labels do, so they replace the label pass).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable, Iterator
from typing import Any, TypeVar

from yolo_pipeline.contract import DATA_YAML, TRAINING_YAML
from yolo_pipeline.dataset.data_yaml import MAX_DATA_YAML_BYTES, DataYaml
from yolo_pipeline.dataset.storage.base import FileInfo, Storage
from yolo_pipeline.dataset.task_keys import DEPTH_KEYS, SEMANTIC_KEYS, TASK_KEY
from yolo_pipeline.dataset.validation.cross_checks import label_caches
from yolo_pipeline.dataset.validation.index import ListingIndex
from yolo_pipeline.dataset.validation.report import Report
from yolo_pipeline.dataset.validation.splits import ResolvedSplit
from yolo_pipeline.dataset.validation.tasks.classify import (
    classify_requested,
    looks_like_class_folders,
    validate_classify,
)
from yolo_pipeline.dataset.validation.tasks.dense import Targets, dense_pass
from yolo_pipeline.dataset.validation.tasks.depth import (
    aspect_problem,
    check_depth_keys,
    depth_path,
    read_depth,
)
from yolo_pipeline.dataset.validation.tasks.semantic import (
    MaskResult,
    PixelBudget,
    find_mask,
    invalid_ids,
    masks_dir,
    parse_label_mapping,
    read_mask,
)
from yolo_pipeline.findings import Finding, error, warning
from yolo_pipeline.training.config import MAX_BYTES as TRAINING_YAML_MAX_BYTES
from yolo_pipeline.training.tasks import (
    Task,
    is_task,
    requested_in_training_yaml,
    task_from_model,
)

T = TypeVar("T")


class ReadOnce:
    """The storage, with data.yaml and training.yaml read at most once: the task hooks and
    the YOLO checks both need them, and each read of an S3 object is a request."""

    def __init__(self, storage: Storage, data_yaml: str) -> None:
        self._storage = storage
        self._once = {data_yaml, TRAINING_YAML}
        self._cache: dict[tuple[str, int | None], bytes] = {}
        self.uri = storage.uri

    def __getattr__(self, name: str) -> Any:  # refused, archive_root, ...
        return getattr(self._storage, name)

    def list_files(self) -> list[FileInfo]:
        return self._storage.list_files()

    def read_bytes(self, path: str, max_bytes: int | None = None) -> bytes:
        if path not in self._once:
            return self._storage.read_bytes(path, max_bytes)
        key = (path, max_bytes)
        if key not in self._cache:
            self._cache[key] = self._storage.read_bytes(path, max_bytes)
        return self._cache[key]

    def map_read(
        self,
        paths: Iterable[str],
        fn: Callable[[str, bytes], T],
        max_workers: int | None = None,
    ) -> Iterator[tuple[str, T]]:
        return self._storage.map_read(paths, fn, max_workers)


def classify_hook(storage: Storage, data_yaml: str, index: ListingIndex, report: Report) -> bool:
    """Validate a classification dataset and say so; False leaves the dataset to the YOLO
    checks. Classification is ``task: classify`` in data.yaml or training.yaml, a ``-cls``
    model, or (a zip, or a folder without data.yaml) train/ of class folders."""
    info = index.by_path.get(data_yaml)
    content = None
    if info is not None and info.size <= MAX_DATA_YAML_BYTES:
        content = storage.read_bytes(data_yaml, MAX_DATA_YAML_BYTES)
    training = index.by_path.get(TRAINING_YAML)
    if training is not None and training.size <= TRAINING_YAML_MAX_BYTES:
        report.training_yaml = storage.read_bytes(TRAINING_YAML, TRAINING_YAML_MAX_BYTES)
    explicit, model = requested_in_training_yaml(report.training_yaml)
    named = task_from_model(model) if model else None
    wanted = explicit if explicit is not None else named
    if wanted is not None and wanted != "classify":
        return False
    if not (
        wanted == "classify"
        or classify_requested(content)
        or (data_yaml == DATA_YAML and looks_like_class_folders(index))
    ):
        return False
    validate_classify(index, content, report)
    report.errors += label_caches(index)  # <split>.cache is read with pickle, as labels' are
    report.stats = dataclasses.replace(report.stats, task="classify")
    return True


# What dense_hook did: checked everything, left polygon rows (semantic without masks) to the
# label pass, or found another task.
DONE, POLYGONS, OTHER = "done", "polygons", ""


def infer_dense_task(config: DataYaml, index: ListingIndex) -> Task | None:
    """semantic or depth from data.yaml alone (``task:``, the task's own keys) or, in a
    dataset without ``labels/``, from the folders Ultralytics pairs images with (``masks/``,
    ``depth/``); None otherwise."""
    declared = config.extras.get(TASK_KEY)
    if is_task(declared):
        return declared
    keys = set(config.extras)
    if keys & SEMANTIC_KEYS:
        return "semantic"
    if keys & DEPTH_KEYS:
        return "depth"
    if index.has_folder("labels"):  # label rows decide; a stray masks/ folder does not
        return None
    if index.has_folder("masks"):
        return "semantic"
    if index.has_folder("depth"):
        return "depth"
    return None


def dense_hook(
    storage: Storage,
    index: ListingIndex,
    splits: dict[str, ResolvedSplit],
    config: DataYaml,
    report: Report,
    data_yaml: str,
    known: Task | None,
) -> str:
    """Check a semantic or depth dataset's targets; DONE, POLYGONS or OTHER (see above)."""
    task = known or infer_dense_task(config, index)
    if task == "semantic":
        folder = masks_dir(config, index)
        if folder is None:
            return POLYGONS
        _check_masks(storage, index, splits, config, report, data_yaml, folder)
        return DONE
    if task == "depth":
        report.add(check_depth_keys(config, data_yaml))
        targets = Targets(
            "depth",
            "depth map",
            find=lambda image: depth_path(image, index),
            read=read_depth,
            size_problem=aspect_problem,
            folder_hint="put depth/<split>/<image stem>.png (16-bit) or .npy beside "
            "images/<split>/",
        )
        dense_pass(storage, index, splits, targets, report)
        return DONE
    return OTHER


def _check_masks(
    storage: Storage,
    index: ListingIndex,
    splits: dict[str, ResolvedSplit],
    config: DataYaml,
    report: Report,
    data_yaml: str,
    folder: str,
) -> None:
    nc = config.nc
    mapping, problems = parse_label_mapping(config.extras.get("label_mapping"), nc, data_yaml)
    report.errors += problems

    def judge(path: str, result: MaskResult) -> Finding | None:
        bad = invalid_ids(result.ids, mapping, nc) if not result.problem else []
        if not bad:
            return None
        return error(
            path,
            f"mask ids {bad[:10]} are not dataset class ids or 255 ignore ({nc} classes: "
            f"0-{nc - 1})",
            hint="every pixel must be a class id of names: or 255; map raw ids with label_mapping:",
        )

    budget = PixelBudget()

    def size_problem(mask: tuple[int, int], image: tuple[int, int]) -> str:
        if mask == image:
            return ""
        return f"mask size {mask} does not match image size {image}"

    targets = Targets(
        "semantic",
        "mask",
        find=lambda image: find_mask(image, folder, index),
        read=lambda _path, data, _size: read_mask(data, budget),
        size_problem=size_problem,
        judge=judge,
        folder_hint=f"put {folder}/<split>/<image stem>.png beside images/<split>/",
    )
    results = dense_pass(storage, index, splits, targets, report)
    unchecked = sum(1 for r in results.values() if not r.ids_checked)
    if unchecked:
        report.warnings.append(
            warning(
                folder,
                f"the class ids of {unchecked} of {len(results)} masks were not read (this "
                "check's pixel budget is spent); their size and data were checked",
                hint="run yolo-pipeline validate on the folder to check every mask; training "
                "drops a mask with ids outside the classes",
            )
        )
