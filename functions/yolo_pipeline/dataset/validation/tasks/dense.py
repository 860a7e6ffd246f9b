"""The pass over per-pixel targets (semantic masks, depth maps): pair each image with its
target, read the targets within bounds, compare their size with the image's, and fill in
the report, as the label pass does for label files.

An image without its target, or with a target Ultralytics cannot use, is dropped by
training without an error: here each is an error that names the file and the fix.
Image sizes come from the first bytes of at most :data:`MAX_SIZE_CHECKS` images.
"""

from __future__ import annotations

import dataclasses
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass

from yolo_pipeline.dataset.storage.base import Storage
from yolo_pipeline.dataset.validation.index import ListingIndex
from yolo_pipeline.dataset.validation.report import MAX_LABEL_PROBLEMS, Report, SplitStats, capped
from yolo_pipeline.dataset.validation.splits import ResolvedSplit
from yolo_pipeline.dataset.validation.tasks.image_size import image_size
from yolo_pipeline.dataset.validation.tasks.semantic import MAX_MASK_BYTES, MaskResult
from yolo_pipeline.findings import Finding, error
from yolo_pipeline.training.tasks import Task

MAX_SIZE_CHECKS = 2_000
MAX_IMAGE_BYTES = 64 * 1024 * 1024


@dataclass(frozen=True)
class Targets:
    """How one task finds, reads and judges its targets."""

    task: Task
    what: str  # "mask", "depth map"
    find: Callable[[str], str | None]  # image -> target path (None: none exists)
    read: Callable[[str, bytes, int], MaskResult]  # path, bytes, listed size
    size_problem: Callable[[tuple[int, int], tuple[int, int]], str]  # target, image
    judge: Callable[[str, MaskResult], Finding | None] = lambda _p, _r: None
    folder_hint: str = ""


def dense_pass(
    storage: Storage,
    index: ListingIndex,
    splits: dict[str, ResolvedSplit],
    targets: Targets,
    report: Report,
) -> dict[str, MaskResult]:
    """Check every split's images against their targets; the results by target path."""
    pairs = {s.name: [(img, targets.find(img)) for img in s.images] for s in splits.values()}
    problems: list[Finding] = []
    wanted: set[str] = set()
    for name, ps in pairs.items():
        missing = [img for img, t in ps if t is None or t not in index.by_path]
        problems += _missing(name, missing, ps, targets)
        wanted |= {t for _, t in ps if t is not None and t in index.by_path}
    results = _read_targets(storage, index, sorted(wanted), targets, problems)
    problems += _size_checks(storage, index, pairs, results, targets)
    for path in sorted(results):
        judged = targets.judge(path, results[path])
        if judged is not None:
            problems.append(judged)
    if problems:
        report.errors += capped(problems, MAX_LABEL_PROBLEMS, f"{targets.what} problems", ".")
    _fill_stats(report, pairs, results, targets.task)
    return results


def _missing(
    split: str, missing: list[str], pairs: list[tuple[str, str | None]], targets: Targets
) -> list[Finding]:
    if not missing:
        return []
    first = dict(pairs)[missing[0]] or "?"
    return [
        error(
            missing[0],
            f"has no {targets.what} (looked for {first}); {len(missing)} of {len(pairs)} "
            f"{split} images lack one and Ultralytics ignores them (ignoring image with "
            f"missing {targets.what})",
            hint=targets.folder_hint,
        )
    ]


def _read_targets(
    storage: Storage,
    index: ListingIndex,
    paths: list[str],
    targets: Targets,
    problems: list[Finding],
) -> dict[str, MaskResult]:
    results: dict[str, MaskResult] = {}
    small = []
    for path in paths:
        size = index.by_path[path].size
        if size > MAX_MASK_BYTES:
            results[path] = MaskResult(
                problem=f"is {size:,} bytes; the limit is {MAX_MASK_BYTES:,}"
            )
        else:
            small.append(path)
    for path, result in storage.map_read(
        small, lambda p, b: targets.read(p, b, index.by_path[p].size)
    ):
        results[path] = result
    for path in sorted(results):
        r = results[path]
        if r.problem:
            problems.append(error(path, r.problem, hint=r.hint))
    return results


def _size_checks(
    storage: Storage,
    index: ListingIndex,
    pairs: dict[str, list[tuple[str, str | None]]],
    results: dict[str, MaskResult],
    targets: Targets,
) -> list[Finding]:
    """Target size against image size, for the first MAX_SIZE_CHECKS readable pairs."""
    checked = [
        (img, t)
        for ps in pairs.values()
        for img, t in ps
        if t in results and results[t].size and index.by_path[img].size <= MAX_IMAGE_BYTES
    ][:MAX_SIZE_CHECKS]
    target_of = dict(checked)
    out: list[Finding] = []
    for image, size in storage.map_read([i for i, _ in checked], lambda _p, b: image_size(b)):
        target = target_of[image]
        found = results[target].size
        if size is None or found is None:
            continue
        problem = targets.size_problem(found, size)
        if problem:
            out.append(error(target, problem, hint=f"each {targets.what} must be its image's size"))
    return sorted(out, key=lambda f: f.file)


def _fill_stats(
    report: Report,
    pairs: dict[str, list[tuple[str, str | None]]],
    results: dict[str, MaskResult],
    task: Task,
) -> None:
    rows = {}
    per_id: Counter[int] = Counter()
    for name, ps in pairs.items():
        good = [t for _, t in ps if t in results and not results[t].problem]
        for t in good:
            per_id.update(results[t].ids)
        rows[name] = SplitStats(
            images=len(ps), labelled=len(good), background=0, instances=len(good)
        )
    names = report.stats.names
    per_class = {n: per_id.get(i, 0) for i, n in enumerate(names)} if task == "semantic" else {}
    report.stats = dataclasses.replace(
        report.stats,
        task=task,
        label_files_read=len(results),
        splits=rows,
        crlf_label_files=0,
        instances_per_class=per_class,
    )
