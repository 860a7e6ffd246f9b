"""A classification dataset: class folders, as Ultralytics' ``check_cls_dataset`` and
``ClassificationDataset`` (torchvision's ImageFolder) read them.

Layout: ``train/<class>/*.jpg`` and ``val/<class>/*.jpg`` (or ``validation/``, ``valid/``,
else ``test/``, Ultralytics' fallback). The class names are the sorted folder names of
``train/``. A folder upload carries a data.yaml trigger that may hold only ``task: classify``
and, optionally, ``names`` to check the folders against; a zip needs nothing extra.

Only the listing is read: images are never downloaded.
"""

from __future__ import annotations

import dataclasses
from collections import Counter
from typing import Any

from yolo_pipeline import safe_yaml
from yolo_pipeline.contract import DATA_YAML
from yolo_pipeline.dataset.class_names import MAX_CLASSES
from yolo_pipeline.dataset.labels import is_image
from yolo_pipeline.dataset.storage.class_folders import classify_root
from yolo_pipeline.dataset.validation.index import ListingIndex
from yolo_pipeline.dataset.validation.report import MAX_LABEL_PROBLEMS, Report, SplitStats
from yolo_pipeline.findings import Finding, error, warning
from yolo_pipeline.text import quote

TASK_KEY = "task"
# check_cls_dataset's val folder, in its order of preference, then its test fallback.
VAL_FOLDERS = ("val", "validation", "valid")
TEST_FOLDER = "test"
_ALLOWED_KEYS = frozenset({TASK_KEY, "names"})
_MAX_YAML_BYTES = 1024 * 1024


@dataclasses.dataclass(frozen=True)
class ClassFolders:
    """One split's images per class folder, and the images outside any class folder."""

    folder: str
    per_class: dict[str, int]
    loose: int  # images directly in the split folder: ImageFolder ignores them

    @property
    def images(self) -> int:
        return sum(self.per_class.values())


def looks_like_class_folders(index: ListingIndex) -> bool:
    """A zip or folder without data.yaml whose train/ holds class folders of images."""
    return DATA_YAML not in index.by_path and classify_root(index.paths) == ""


def classify_requested(content: bytes | None) -> bool:
    """data.yaml says ``task: classify`` (read safely and bounded; unreadable says no)."""
    if content is None:
        return False
    loaded = safe_yaml.load(content, DATA_YAML, _MAX_YAML_BYTES)
    return loaded.ok and isinstance(loaded.data, dict) and loaded.data.get(TASK_KEY) == "classify"


def class_folders(index: ListingIndex, folder: str) -> ClassFolders:
    """Images per class folder of one split, from the listing."""
    per_class: Counter[str] = Counter()
    loose = 0
    for path in index.under(folder):
        if not is_image(path):
            continue
        rest = path[len(folder) + 1 :]
        if "/" in rest:
            per_class[rest.split("/", 1)[0]] += 1
        else:
            loose += 1
    return ClassFolders(folder, dict(sorted(per_class.items())), loose)


def val_folder(index: ListingIndex) -> str | None:
    """The folder Ultralytics validates on: val/, validation/ or valid/, else test/."""
    for name in (*VAL_FOLDERS, TEST_FOLDER):
        if index.has_folder(name):
            return name
    return None


def validate_classify(index: ListingIndex, data_yaml: bytes | None, report: Report) -> None:
    """Check the class folders; fill in the report's figures (task ``classify``)."""
    names = _data_yaml_names(data_yaml, report) if data_yaml is not None else None
    train = class_folders(index, "train")
    if not train.per_class:
        report.errors.append(_no_training_images(index))
        return
    if len(train.per_class) > MAX_CLASSES:
        report.errors.append(
            error(
                "train",
                f"has {len(train.per_class):,} class folders; the limit is {MAX_CLASSES:,}",
                hint="each class is one folder of images under train/",
            )
        )
        return
    classes = list(train.per_class)
    val_name = val_folder(index)
    val = class_folders(index, val_name) if val_name else None
    report.errors += _val_findings(val, classes)
    report.warnings += _loose_findings(train, val)
    if val_name == TEST_FOLDER:
        report.warnings.append(
            warning(
                "test",
                "is used for validation: there is no val/ folder",
                hint="Ultralytics: Dataset 'split=val' not found, using 'split=test' "
                "instead; add val/<class>/ folders to keep test/ for testing",
            )
        )
    if names is not None:
        report.errors += _names_findings(names, classes)
    _fill_stats(report, classes, train, val)


def _no_training_images(index: ListingIndex) -> Finding:
    hint = "put each class's images in its own folder: train/<class>/*.jpg and val/<class>/*.jpg"
    loose = [p for p in index.under("train") if is_image(p)]
    if loose:
        hint = f"{len(loose)} image(s) sit directly in train/; {hint}"
    return error(
        "train",
        "no training images found in class folders",
        hint=hint + " (Ultralytics: 'train:' no training images found)",
    )


def _val_findings(val: ClassFolders | None, classes: list[str]) -> list[Finding]:
    if val is None or not val.per_class:
        return [
            error(
                "val",
                "no validation images found in class folders",
                hint="add val/<class>/ folders with a few images of each class (Ultralytics "
                "validates on val/, validation/, valid/ or test/)",
            )
        ]
    extra = [c for c in val.per_class if c not in classes]
    out: list[Finding] = []
    if extra:
        shown = ", ".join(quote(c, 40) for c in extra[:5])
        out.append(
            error(
                f"{val.folder}/{extra[0]}",
                f"has class folder(s) {shown} that train/ lacks: Ultralytics skips their "
                f"{sum(val.per_class[c] for c in extra)} images (Skipping samples from classes "
                "the model lacks)",
                hint="add the class to train/ or remove the folder from " + val.folder + "/",
            )
        )
    return out


def _loose_findings(train: ClassFolders, val: ClassFolders | None) -> list[Finding]:
    out: list[Finding] = []
    for split in (train, val):
        if split is not None and split.loose:
            out.append(
                warning(
                    split.folder,
                    f"{split.loose} image(s) sit directly in {split.folder}/ and are ignored",
                    hint=f"move them into {split.folder}/<class>/",
                )
            )
    if val is not None and val.per_class:
        missing = [c for c in train.per_class if c not in val.per_class]
        if missing:
            shown = ", ".join(quote(c, 40) for c in missing[:5])
            out.append(
                warning(
                    val.folder,
                    f"has no images of class(es) {shown}: they are not measured",
                    hint=f"add {val.folder}/<class>/ folders for every class of train/",
                )
            )
    return out


def _data_yaml_names(content: bytes, report: Report) -> list[str] | None:
    """data.yaml's optional ``names`` (list or id mapping); other keys are warned about."""
    loaded = safe_yaml.load(content, DATA_YAML, _MAX_YAML_BYTES)
    data: Any = loaded.data if loaded.ok else None
    if not isinstance(data, dict):
        report.errors.append(
            error(DATA_YAML, "could not be read as a mapping", hint="write task: classify")
        )
        return None
    for key in [k for k in data if k not in _ALLOWED_KEYS][:MAX_LABEL_PROBLEMS]:
        report.warnings.append(
            warning(
                DATA_YAML,
                "is ignored for classification: the class folders are the dataset",
                field=quote(str(key), 60)[1:-1],
                hint="a classification data.yaml needs only task: classify",
            )
        )
    raw = data.get("names")
    if raw is None:
        return None
    if isinstance(raw, dict) and all(isinstance(k, int) for k in raw):
        raw = [raw[k] for k in sorted(raw)]
    if not isinstance(raw, list) or not all(isinstance(n, str) for n in raw):
        report.errors.append(
            error(
                DATA_YAML,
                "must be a list of class folder names",
                field="names",
                hint="names: [cat, dog], or leave it out",
            )
        )
        return None
    return [str(n) for n in raw]


def _names_findings(names: list[str], classes: list[str]) -> list[Finding]:
    if names == classes:
        return []
    missing = [n for n in names if n not in classes]
    extra = [c for c in classes if c not in names]
    if missing or extra:
        parts = []
        if missing:
            parts.append("no train/ folder for " + ", ".join(quote(n, 40) for n in missing[:5]))
        if extra:
            parts.append(
                "train/ folders not in names: " + ", ".join(quote(c, 40) for c in extra[:5])
            )
        message = "do not match the class folders: " + "; ".join(parts)
    else:
        message = (
            "list the class folders in another order; Ultralytics numbers classes by "
            "sorted folder name"
        )
    return [
        error(
            DATA_YAML,
            message,
            field="names",
            hint="names: "
            + ", ".join(quote(c, 40) for c in classes[:20])
            + (" ..." if len(classes) > 20 else "")
            + " (or leave names out)",
        )
    ]


def _fill_stats(
    report: Report, classes: list[str], train: ClassFolders, val: ClassFolders | None
) -> None:
    splits = {"train": train} | ({"val": val} if val is not None else {})
    rows = {
        name: SplitStats(images=s.images, labelled=s.images, background=0, instances=s.images)
        for name, s in splits.items()
    }
    per_class = {
        c: train.per_class.get(c, 0) + (val.per_class.get(c, 0) if val else 0) for c in classes
    }
    report.stats = dataclasses.replace(
        report.stats,
        task="classify",
        classes=len(classes),
        names=tuple(classes),
        label_files_read=0,
        splits=rows,
        crlf_label_files=0,
        instances_per_class=per_class,
    )
