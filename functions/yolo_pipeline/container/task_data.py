"""What training reads, per task: the sanitised data.yaml copy for the YOLO-format tasks, or,
for classification, a scratch view of the class folders.

Classification never reads a data.yaml: Ultralytics' ``check_cls_dataset`` takes the folder
itself, names the classes after every sub-folder of ``train/`` (empty ones too), reads
``<split>.cache`` next to a split with pickle, and ``.ndjson.yaml`` for names. So training gets
a scratch folder holding only links to the class folders that hold images: nothing uploaded
beside them is read, and nothing in the channel (possibly read-only) is written.
"""

from __future__ import annotations

import logging
import tempfile
from pathlib import Path
from typing import Any

from yolo_pipeline.container import dataset_scan
from yolo_pipeline.container.errors import UserError
from yolo_pipeline.dataset.data_yaml import DataYaml
from yolo_pipeline.dataset.labels import is_image

log = logging.getLogger(__name__)

_VAL_FOLDERS = ("val", "validation", "valid", "test")  # check_cls_dataset's order


def prepare(root: Path, values: dict[str, Any]) -> tuple[Path, DataYaml, dataset_scan.DatasetScan]:
    """(what to pass as ``data=``, the dataset's config, the split counts)."""
    if values.get("task") == "classify":
        return classify_view(root)
    config = dataset_scan.read_data_yaml(root)
    scan, _ = dataset_scan.scan_dataset(root, config)
    return dataset_scan.write_sanitized_copy(config, root), config, scan


def _class_images(split: Path) -> dict[str, list[Path]]:
    """Each class folder's images (any depth, hidden ones skipped as Ultralytics' glob does);
    folders without images are left out."""
    found: dict[str, list[Path]] = {}
    for folder in sorted(p for p in split.iterdir() if p.is_dir() and not p.name.startswith(".")):
        images = sorted(
            f
            for f in folder.rglob("*")
            if f.is_file()
            and is_image(f.name)
            and not any(part.startswith(".") for part in f.relative_to(folder).parts)
        )
        if images:
            found[folder.name] = images
    return found


def _link(view: Path, source: Path, images: dict[str, list[Path]], classes: set[str]) -> None:
    """File links, not folder links: Ultralytics' rglob does not descend into linked folders,
    and only the folders and images checked reach training."""
    for name, files in images.items():
        if name not in classes:  # a val class train lacks would be skipped anyway
            continue
        for image in files:
            target = view / name / image.relative_to(source / name)
            target.parent.mkdir(parents=True, exist_ok=True)
            target.symlink_to(image)


def classify_view(root: Path) -> tuple[Path, DataYaml, dataset_scan.DatasetScan]:
    """A scratch folder ``train/<class>`` and ``val/<class>`` of links to the class folders
    with images; the classes are the sorted train/ folders, as Ultralytics numbers them."""
    train = root / "train"
    classes = _class_images(train) if train.is_dir() else {}
    if not classes:
        raise UserError(
            "No training images in class folders: put each class's images in train/<class>/ "
            "(a classification dataset is train/<class>/ and val/<class>/ folders)."
        )
    val_name = next((n for n in _VAL_FOLDERS if (root / n).is_dir()), None)
    val = _class_images(root / val_name) if val_name else {}
    if not val:
        raise UserError("No validation images in class folders: add val/<class>/ folders.")
    view = Path(tempfile.mkdtemp(prefix="yolo-classify-"))
    _link(view / "train", train, classes, set(classes))
    _link(view / "val", root / str(val_name), val, set(classes))
    scan = dataset_scan.DatasetScan(
        images={
            "train": sum(map(len, classes.values())),
            "val": sum(len(files) for name, files in val.items() if name in classes),
        }
    )
    log.info("Classification: %d classes, view of the class folders at %s", len(classes), view)
    return view, DataYaml(names=list(classes), splits={}), scan
