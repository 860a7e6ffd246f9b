"""The Completed email's extra sections: best epoch, per-class table, comparison with the
dataset's previous model, and the registry. Pure text builders for ``emails.py``.

Every section reads well without the others: a missing results file or a refused registry
call leaves a one-line note, never a gap (docs/architecture.md, "Completed email").
"""

from __future__ import annotations

import math
import shlex
from collections.abc import Mapping, Sequence

from yolo_pipeline.notifier.job_results import ClassFigures, JobResults
from yolo_pipeline.notifier.registry import RegisteredModel, RegistryOutcome
from yolo_pipeline.text import clean
from yolo_pipeline.training.metric_line import headline_label, headline_metric, higher_is_better

ALL_CLASSES_MAX = 15  # up to this many classes the table lists every one
WORST_AND_BEST = 5  # beyond it: the 5 worst and the 5 best by mAP50-95
NAME_WIDTH = 20


def best_epoch_lines(
    results: JobResults | None, best_epoch: int | None, epochs_run: int | None
) -> list[str]:
    """``Best epoch: 21 of 30 run (best.pt: the model you get)`` and how training ended."""
    if not best_epoch:
        return ["Best epoch: not reported."]
    run = f" of {epochs_run} run" if epochs_run else ""
    lines = [f"Best epoch: {best_epoch}{run} (best.pt, the model you get, is from this epoch)"]
    if results is None or results.stopped_early is None:
        return lines
    if results.stopped_early:
        patience = f" for {results.patience} epochs" if results.patience else ""
        planned = f" of {results.epochs_requested} planned" if results.epochs_requested else ""
        lines.append(
            f"Stopped early: no improvement{patience} (EarlyStopping), after "
            f"{results.epochs_run or epochs_run}{planned} epochs."
        )
    else:
        lines.append("Training ran every planned epoch (no early stop).")
    return lines


def _figure(value: float | None) -> str:
    return "-" if value is None else f"{value:.3f}"


def _row(c: ClassFigures) -> str:
    name = c.name if len(c.name) <= NAME_WIDTH else c.name[: NAME_WIDTH - 3] + "..."
    instances = "-" if c.instances is None else str(c.instances)
    return (
        f"  {name:<{NAME_WIDTH}} {instances:>9}  {_figure(c.precision):>9}  "
        f"{_figure(c.recall):>6}  {_figure(c.map50):>6}  {_figure(c.map50_95):>8}"
    )


_HEADER = (
    f"  {'class':<{NAME_WIDTH}} {'instances':>9}  {'precision':>9}  "
    f"{'recall':>6}  {'mAP50':>6}  {'mAP50-95':>8}"
)


_WHOLE = {
    "classify": "Ultralytics measures classification over the whole validation set",
    "depth": "depth is one continuous target, measured over every valid pixel",
}
_SEMANTIC_HEADER = (
    f"  {'class':<{NAME_WIDTH}} {'images':>7}  {'pixels':>10}  {'IoU':>6}  {'pixel acc':>9}"
)


def _semantic_row(c: ClassFigures) -> str:
    name = c.name if len(c.name) <= NAME_WIDTH else c.name[: NAME_WIDTH - 3] + "..."
    images = "-" if c.images is None else str(c.images)
    pixels = "-" if c.instances is None else str(c.instances)
    return (
        f"  {name:<{NAME_WIDTH}} {images:>7}  {pixels:>10}  {_figure(c.iou):>6}  "
        f"{_figure(c.pixel_acc):>9}"
    )


def semantic_lines(classes: Sequence[ClassFigures]) -> list[str]:
    """IoU per class: every class (<= 15), else the 5 worst and 5 best by IoU."""
    measured = sorted((c for c in classes if c.iou is not None), key=lambda c: (c.iou, c.index))
    absent = [c.name for c in classes if c.iou is None]
    if len(classes) <= ALL_CLASSES_MAX:
        lines = ["Per class (validation set, best.pt):", _SEMANTIC_HEADER]
        lines += [_semantic_row(c) for c in classes if c.iou is not None]
    else:
        lines = [
            f"Per class: {len(classes)} classes; the {WORST_AND_BEST} worst and the "
            f"{WORST_AND_BEST} best by IoU (every class: metrics.json in the model archive).",
            _SEMANTIC_HEADER,
            *(_semantic_row(c) for c in measured[:WORST_AND_BEST]),
            "  ...",
            *(_semantic_row(c) for c in measured[-WORST_AND_BEST:]),
        ]
    if absent:
        names = ", ".join(absent[:30]) + (" ..." if len(absent) > 30 else "")
        lines.append(f"  No validation pixels, so not measured ({len(absent)}): {names}.")
    return lines


def per_class_lines(results: JobResults | None, note: str = "") -> list[str]:
    """The table that fits the task: IoU per class for semantic; none for classify and depth;
    otherwise every class (<= 15), else the 5 worst and 5 best by mAP50-95, classes without
    validation instances called out, not ranked."""
    if results is not None and results.task in _WHOLE:
        return [f"Per class: none ({_WHOLE[results.task]})."]
    if results is not None and results.task == "semantic" and results.per_class:
        return semantic_lines(results.per_class)
    if results is None or not results.per_class:
        why = note or "the results file has no per-class figures"
        return ["Per class: not available.", f"  ({why})"]
    measured = worst_first(results.per_class)
    absent = [c for c in results.per_class if c.instances == 0]
    lines: list[str]
    if len(results.per_class) <= ALL_CLASSES_MAX:
        lines = ["Per class (validation set, best.pt):", _HEADER]
        lines += [_row(c) for c in results.per_class if c not in absent]
    else:
        ranked = worst_first(measured)
        worst, best = ranked[:WORST_AND_BEST], ranked[-WORST_AND_BEST:][::-1]
        lines = [
            f"Per class: {len(results.per_class)} classes; the {len(worst)} worst and the "
            f"{len(best)} best by mAP50-95",
            "(every class: metrics.json in the model archive).",
            "  Worst:",
            _HEADER,
            *(_row(c) for c in worst),
            "  Best:",
            _HEADER,
            *(_row(c) for c in best),
        ]
    if absent:
        names = ", ".join(c.name for c in absent[:30]) + (" ..." if len(absent) > 30 else "")
        lines += [
            f"  No validation instances, so not measured ({len(absent)}): {names}.",
            "  Add validation images with these classes to know how the model does on them.",
        ]
    return lines


def comparison_lines(
    metrics: Mapping[str, float],
    task: str,
    previous: RegisteredModel | None,
    registry: RegistryOutcome | None,
) -> list[str]:
    """The dataset's previous model: its job, its date, and the change in the task's headline
    metric (mask mAP50-95 for segment, pose mAP50-95 for pose, top-1 for classify, mIoU for
    semantic, delta1 for depth, else box mAP50-95), judged in the metric's direction."""
    if registry is None:
        return []
    if previous is None:
        if registry.error and registry.package is None:
            return ["Previous model of this dataset: not known (the registry could not be read)."]
        return ["Previous model of this dataset: none; this is the first one registered."]
    when = previous.trained_at or (
        previous.created.strftime("%Y-%m-%d %H:%M UTC") if previous.created else "date unknown"
    )
    metric = headline_metric(task)
    label = headline_label(metric)
    head = f"Compared with the previous model of this dataset, {previous.job_name or previous.arn}"
    lines = [f"{head} ({when}):"]
    if previous.task and previous.task != task:
        lines.append(f"  {label}: not comparable (that model was trained for {previous.task}).")
        return lines
    before, current = previous.metrics.get(metric), metrics.get(metric)
    if before is None or current is None or not all(map(math.isfinite, (before, current))):
        lines.append(f"  {label}: not comparable (a figure is missing).")
        return lines
    change = current - before
    gain = change if higher_is_better(metric) else -change  # abs_rel, rmse, silog: lower
    verdict = "better" if gain > 0.0005 else "worse" if gain < -0.0005 else "about the same"
    lines.append(f"  {label} {before:.3f} -> {current:.3f} ({change:+.3f}, {verdict})")
    return lines


def registry_lines(
    registry: RegistryOutcome | None, note: str = "", dataset: str = ""
) -> list[str]:
    if registry is None:
        return f"Model registry: {note}.".split("\n") if note else []  # one body line each
    package = registry.package
    if package is None:
        return [
            f"Model registry: NOT registered in group {registry.group} ({registry.error}).",
            "  The model itself is safe (above); register it by hand in SageMaker Studio",
            f"  (Models > Model registry > {registry.group}) if you track it there.",
        ]
    version = f"version {package.version}" if package.version else "a version"
    status = package.approval or "PendingManualApproval"
    lines = [
        f"Model registry: {version} of model package group {registry.group} ({status}).",
        f"  {package.arn}",
    ]
    if status != "Approved":
        lines.append("  Approve it for deployment (it then serves from the dataset's endpoint):")
        if dataset and package.version:
            approve = f"yolo-pipeline approve {shlex.quote(clean(dataset, 120))}"
            lines += [f"    {approve} --version {package.version}", "  or, without the CLI:"]
        lines.append(f"    {package.approve_command}")
    return lines


def worst_first(classes: Sequence[ClassFigures]) -> list[ClassFigures]:
    """Measured classes, lowest mAP50-95 first (for tools that want the ranking)."""
    return sorted(
        (c for c in classes if c.instances and c.map50_95 is not None),
        key=lambda c: (c.map50_95 or 0.0, c.index),
    )
