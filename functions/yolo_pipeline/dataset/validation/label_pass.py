"""The label pass: read only the label files the splits pair with their images (bounded
concurrency, a small summary per file), then judge each split and every file.
"""

from __future__ import annotations

import dataclasses
import posixpath
import threading
from collections import Counter
from dataclasses import dataclass, field

from yolo_pipeline.dataset.budget import CheckBudget, too_costly
from yolo_pipeline.dataset.data_yaml import DataYaml
from yolo_pipeline.dataset.labels import (
    MAX_LABEL_BYTES,
    LabelFileResult,
    check_label_file,
    label_path,
    summarize_notes,
)
from yolo_pipeline.dataset.storage.base import Storage
from yolo_pipeline.dataset.validation.index import ListingIndex
from yolo_pipeline.dataset.validation.report import (
    MAX_LABEL_PROBLEMS,
    Report,
    SplitStats,
    capped,
)
from yolo_pipeline.dataset.validation.splits import Pairs, ResolvedSplit
from yolo_pipeline.errors import PipelineError
from yolo_pipeline.findings import Finding, error, warning
from yolo_pipeline.training.tasks import Task


@dataclass
class LabelPass:
    """What the label files said: per-file results and the counts across them."""

    results: dict[str, LabelFileResult]
    too_big: list[Finding]  # label files over MAX_LABEL_BYTES, never read
    per_class: Counter[int] = field(default_factory=Counter)
    rows: int = 0
    stopped: Finding | None = None  # why the budget ended the pass early


def read_labels(
    storage: Storage,
    index: ListingIndex,
    pairs: Pairs,
    config: DataYaml,
    kpt_shape: tuple[int, int] | None,
    task: Task | None,
    budget: CheckBudget | None = None,
) -> LabelPass:
    """Every paired label file read once; with a ``budget``, the pass stops (one finding in
    ``stopped``) when the label bytes, the rows or the time run out."""
    wanted = sorted({lbl for ps in pairs.values() for _, lbl in ps if lbl in index.by_path})
    too_big = [
        error(
            p,
            f"is {index.by_path[p].size:,} bytes; a label file is a few lines",
            hint="check it is really a YOLO label file",
        )
        for p in wanted
        if index.by_path[p].size > MAX_LABEL_BYTES
    ]
    to_read = [p for p in wanted if index.by_path[p].size <= MAX_LABEL_BYTES]
    labels = LabelPass({}, too_big)
    total = sum(index.by_path[p].size for p in to_read)
    if budget is not None and total > budget.max_label_bytes:
        labels.stopped = too_costly(
            f"its {len(to_read):,} label files hold {total:,} bytes; the limit is "
            f"{budget.max_label_bytes:,}",
            in_zip=_in_zip(storage),
        )
        return labels
    meter = _Meter(budget)
    reads = storage.map_read(
        (p for p in to_read if index.by_path[p].size > 0),
        lambda p, b: meter.count(check_label_file(p, meter.go(b), config.names, kpt_shape, task)),
    )
    try:
        for path, result in reads:
            labels.results[path] = result
    except _Spent as spent:
        labels.stopped = _spent_finding(spent.what, labels, budget, storage)
        return labels
    finally:
        close = getattr(reads, "close", None)
        if close is not None:
            close()  # a stopped pass cancels the reads still queued
    labels.rows = meter.rows
    for p in to_read:
        if index.by_path[p].size == 0:
            labels.results[p] = LabelFileResult(p)
    return labels


class _Spent(PipelineError):
    """The budget ran out inside a read worker: ends the pass (``what``: rows or time); a
    signal caught in ``read_labels``, never seen outside it."""

    def __init__(self, what: str) -> None:
        super().__init__(what)
        self.what = what


class _Meter:
    """The budget, checked where the work happens (the read workers, one zip span holding
    thousands of labels): before each file for time, after it for rows."""

    def __init__(self, budget: CheckBudget | None) -> None:
        self.budget = budget
        self.rows = 0
        self._lock = threading.Lock()

    def go(self, body: bytes) -> bytes:
        if self.budget is not None and self.budget.expired():
            raise _Spent("time")
        return body

    def count(self, result: LabelFileResult) -> LabelFileResult:
        with self._lock:
            self.rows += result.rows
            if self.budget is not None and self.rows > self.budget.max_label_rows:
                raise _Spent("rows")
        return result


def _spent_finding(
    what: str, labels: LabelPass, budget: CheckBudget | None, storage: Storage
) -> Finding:
    limit = budget.max_label_rows if budget is not None else 0
    if what == "rows":
        return too_costly(f"its label files hold more than {limit:,} rows", in_zip=_in_zip(storage))
    return too_costly(
        "the launcher's time ran out while it read the label files",
        in_zip=_in_zip(storage),
        deadline=True,
    )


def _in_zip(storage: Storage) -> bool:
    return bool(getattr(storage, "archive_root", None) is not None)


def judge_splits(
    splits: dict[str, ResolvedSplit],
    pairs: Pairs,
    index: ListingIndex,
    labels: LabelPass,
    report: Report,
    file: str,
) -> None:
    """Per split: the stats row, and the two rejection policies (see README)."""
    split_stats: dict[str, SplitStats] = {}
    notes: Counter[str] = Counter()
    for s in splits.values():
        ps = pairs[s.name]
        present = [r for r in (labels.results.get(lbl) for _, lbl in ps) if r is not None]
        labelled = [r for r in present if not r.empty]
        counts: Counter[int] = Counter()
        split_notes: Counter[str] = Counter()
        for r in labelled:
            counts.update(r.instances)
            split_notes.update(r.notes)
        labels.per_class.update(counts)
        notes.update(split_notes)
        background = len(ps) - len(labelled)
        split_stats[s.name] = SplitStats(
            images=len(ps),
            labelled=len(labelled),
            background=background,
            instances=sum(counts.values()),
        )
        report.warnings += summarize_notes(split_notes, s.name)
        if not present and not labels.too_big:
            report.errors.append(_no_labels(s, ps, index, file))
        elif not labelled and s.name in {"train", "val"}:
            report.errors.append(
                error(
                    file,
                    f"all {len(present)} label files of {s.name} are empty: nothing to learn from",
                    field=s.name,
                    hint="label the objects, or check the export",
                )
            )
        elif background:
            report.warnings.append(_background_warning(s.name, ps, index, labels, file))
    report.stats = dataclasses.replace(
        report.stats, splits=split_stats, crlf_label_files=notes.get("crlf", 0)
    )


def _background_warning(
    split: str, ps: list[tuple[str, str]], index: ListingIndex, labels: LabelPass, file: str
) -> Finding:
    empty = LabelFileResult("")
    example = next(
        (
            img
            for img, lbl in ps
            if lbl not in index.by_path or labels.results.get(lbl, empty).empty
        ),
        "",
    )
    background = sum(
        1 for _, lbl in ps if lbl not in index.by_path or labels.results.get(lbl, empty).empty
    )
    return warning(
        file,
        f"{background} of {len(ps)} {split} images have no label file or an "
        f"empty one and train as background (e.g. {example} -> {label_path(example)})",
        field=split,
        hint="fine for negative examples; otherwise upload their labels",
    )


def _no_labels(
    s: ResolvedSplit, ps: list[tuple[str, str]], index: ListingIndex, file: str
) -> Finding:
    image, expected = ps[0]
    expected_dir = posixpath.dirname(expected)
    if "/images/" not in "/" + image:
        hint = (
            "put images under an images/ folder and labels in the matching labels/ folder "
            "(images/train/a.jpg -> labels/train/a.txt), or the .txt next to each image"
        )
    elif not index.has_folder(expected_dir):
        hint = (
            f"folder {expected_dir}/ is missing: upload the labels before data.yaml (was the "
            "upload interrupted?)"
        )
    else:
        hint = f"{expected_dir}/ exists but no file matches an image name; names must match"
    return error(
        file,
        f"{s.name} has {len(ps)} images but no label files (expected e.g. {expected} for {image})",
        field=s.name,
        hint=hint,
    )


def judge_label_files(labels: LabelPass, report: Report, task: Task | None) -> None:
    problems: list[Finding] = list(labels.too_big)
    seg_files = box_files = 0
    for r in sorted(labels.results.values(), key=lambda r: r.path):
        seg_files += bool(r.segment_rows)
        box_files += bool(r.box_rows)
        problems += r.problems
        if r.problem_count > len(r.problems):
            problems.append(
                error(
                    r.path,
                    f"... and {r.problem_count - len(r.problems)} more problems in this file",
                )
            )
    fatal = sum(1 for r in labels.results.values() if r.fails_training)
    bad_files = sum(1 for r in labels.results.values() if not r.ok) + len(labels.too_big) - fatal
    if problems:
        report.errors += capped(problems, MAX_LABEL_PROBLEMS, "label problems", "labels")
    if bad_files:
        report.errors.append(
            error(
                "labels",
                f"{bad_files} label file(s) have problems; "
                "Ultralytics would silently drop those images",
                hint="fix the lines listed above",
            )
        )
    if fatal:
        report.errors.append(
            error(
                "labels",
                f"{fatal} label file(s) would stop the whole training (see above)",
                hint="fix them before uploading again",
            )
        )
    if seg_files and box_files and task != "obb":
        report.warnings.append(
            warning(
                "labels",
                f"{seg_files} label files hold polygons and "
                f"{box_files} hold boxes; training uses boxes only",
                hint="use one format throughout",
            )
        )
    found: Task = "segment" if seg_files and not box_files else "detect"
    report.stats = dataclasses.replace(report.stats, task=task or found)
