"""Checks across splits and files: overlap, empty images, uploaded label caches, classes
never seen in train, label files no image uses or two images share, folders named like
images, and ``channels:`` against the image formats.
"""

from __future__ import annotations

import posixpath
from collections.abc import Mapping

from yolo_pipeline.dataset.data_yaml import DataYaml
from yolo_pipeline.dataset.labels import LabelFileResult, is_image
from yolo_pipeline.dataset.validation.index import ListingIndex
from yolo_pipeline.dataset.validation.report import (
    MAX_EXAMPLES,
    MAX_LABEL_PROBLEMS,
    Report,
    SplitStats,
    capped,
)
from yolo_pipeline.dataset.validation.splits import Pairs, ResolvedSplit
from yolo_pipeline.findings import Finding, error, warning


def check_overlap(splits: dict[str, ResolvedSplit], report: Report, file: str) -> None:
    train = set(splits["train"].images) if "train" in splits else set()
    for name in ("val", "test"):
        if name in splits and train:
            shared = train.intersection(splits[name].images)
            if shared:
                report.warnings.append(
                    warning(
                        file,
                        f"{len(shared)} of {len(splits[name].images)} {name} images are also in "
                        "train, so the metrics will be optimistic",
                        field=name,
                        hint=f"keep {name} images separate from train",
                    )
                )


def check_empty_images(
    splits: dict[str, ResolvedSplit], index: ListingIndex, report: Report
) -> None:
    """0-byte images, visible in the listing: Ultralytics cannot open them and drops them."""
    empty = sorted({p for s in splits.values() for p in s.images if index.by_path[p].size == 0})
    findings = [
        error(p, "is an empty (0-byte) file, not an image", hint="upload the image again")
        for p in empty
    ]
    report.errors += capped(findings, MAX_LABEL_PROBLEMS, "empty images", "images")


def label_caches(index: ListingIndex) -> list[Finding]:
    """An uploaded ``*.cache`` is a pickle that Ultralytics loads from next to the labels."""
    caches = [f.path for f in index.files if f.path.endswith(".cache")]
    return [
        error(
            path,
            "is an Ultralytics label cache: a pickle, which training would load (run code from)",
            hint="delete the .cache files from the upload; training rebuilds them",
        )
        for path in caches[:MAX_EXAMPLES]
    ]


def check_class_coverage(
    config: DataYaml,
    split_stats: Mapping[str, SplitStats],
    pairs: Pairs,
    results: dict[str, LabelFileResult],
    report: Report,
    file: str,
) -> None:
    train = split_stats.get("train")
    if "train" not in pairs or train is None or not train.instances:
        return
    seen: set[int] = set()
    for _, lbl in pairs["train"]:
        r = results.get(lbl)
        if r is not None:
            seen.update(r.instances)
    unused = [config.names[i] for i in range(config.nc) if i not in seen]
    if unused and len(unused) < config.nc:
        shown = ", ".join(unused[:10]) + (" ..." if len(unused) > 10 else "")
        report.warnings.append(
            warning(
                file,
                f"{len(unused)} class(es) have no instances in train: {shown}",
                field="names",
                hint="the model cannot learn them; add examples or remove the classes",
            )
        )


def check_orphans(pairs: Pairs, index: ListingIndex, report: Report) -> None:
    expected = {lbl for ps in pairs.values() for _, lbl in ps}
    dirs = {posixpath.dirname(lbl) for lbl in expected}
    orphans = [
        f.path
        for f in index.files
        if f.path.endswith(".txt") and f.path not in expected and posixpath.dirname(f.path) in dirs
    ]
    if orphans:
        report.warnings.append(
            warning(
                orphans[0],
                f"{len(orphans)} label file(s) have no matching image and are unused",
                hint="upload the missing images or delete the stray labels",
            )
        )


# Formats OpenCV always decodes to 1 or 3 channels: with ``channels:`` other than 1 or 3,
# Ultralytics reads images unchanged (IMREAD_UNCHANGED), so such a set feeds a 3-channel
# image to a model built for another count, which fails at its first batch.
_THREE_CHANNEL_FORMATS = ("jpg", "jpeg", "mpo", "heic", "heif", "avif")


def check_channels(config: DataYaml, splits: dict[str, ResolvedSplit], file: str) -> list[Finding]:
    channels = config.extras.get("channels")
    if not isinstance(channels, int) or isinstance(channels, bool) or channels in (1, 3):
        return []
    line = config.key_lines.get("channels")
    example = next(
        (
            p
            for s in splits.values()
            for p in s.images
            if p.rpartition(".")[2].lower() in _THREE_CHANNEL_FORMATS
        ),
        None,
    )
    hint = "remove channels: (colour images are 3) or set 1 for greyscale"
    if example is not None:
        return [
            error(
                file,
                f"is {channels}, but {example} is a format read with 3 channels: the model "
                f"is built for {channels} and training fails at its first batch",
                line=line,
                field="channels",
                hint=hint,
            )
        ]
    return [
        warning(
            file,
            f"is {channels}: every image must hold exactly {channels} channels (e.g. RGBA PNG "
            "or multi-band TIFF), which is not checked before training",
            line=line,
            field="channels",
            hint=hint,
        )
    ]


def check_shared_labels(pairs: Pairs, file: str) -> list[Finding]:
    """Two images of one name with different suffixes (a.jpg, a.png) map to one label file:
    Ultralytics trains both with those labels."""
    shared: dict[str, list[str]] = {}
    for ps in pairs.values():
        by_label: dict[str, set[str]] = {}
        for img, lbl in ps:
            by_label.setdefault(lbl, set()).add(img)
        shared.update({lbl: sorted(imgs) for lbl, imgs in by_label.items() if len(imgs) > 1})
    if not shared:
        return []
    label, images = min(shared.items())
    return [
        warning(
            file,
            f"{len(shared)} label file(s) serve two images of one name (e.g. "
            f"{' and '.join(images[:2])} both use {label}); both train with those labels",
            hint="give each image its own name if they show different things",
        )
    ]


def check_image_named_folders(config: DataYaml, index: ListingIndex, file: str) -> list[Finding]:
    """A folder named like an image (``scan.tif/``) inside a split folder: Ultralytics' glob
    (``**/*.*``) lists it as an image, cannot open it, and drops it as corrupt."""
    folders = sorted(
        f
        for f in index.folders
        if is_image(f)
        and any(
            entry in {"", "."} or f.startswith(entry.rstrip("/") + "/")
            for entries in config.splits.values()
            for entry in entries
        )
    )
    if not folders:
        return []
    return [
        warning(
            folders[0] + "/",
            f"{len(folders)} folder(s) are named like images; training lists each as an image, "
            "cannot open it, and skips it as corrupt",
            hint="rename the folder (drop its image suffix)",
        )
    ]
