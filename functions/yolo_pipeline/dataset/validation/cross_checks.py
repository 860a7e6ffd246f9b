"""Checks across splits and files: overlap, empty images, uploaded label caches, classes
never seen in train, and label files no image uses.
"""

from __future__ import annotations

import posixpath
from collections.abc import Mapping

from yolo_pipeline.dataset.data_yaml import DataYaml
from yolo_pipeline.dataset.labels import LabelFileResult
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
