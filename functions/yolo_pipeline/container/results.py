"""metrics.json: what the finished run is worth, from Ultralytics' own final validation.

At the end of training Ultralytics' ``final_eval`` validates best.pt (not the last epoch)
and leaves the result in ``trainer.metrics`` (the mean figures) and
``trainer.validator.metrics`` (a ``DetMetrics`` subclass: per-class figures indexed by
``ap_class_index``, instance counts in ``nt_per_class``). :func:`capture_final_validation`
reads both from the trainer while they are fresh; :func:`build_results` turns them, the
results.csv rows and the dataset scan into the metrics.json document.

metrics.json is written to ``/opt/ml/output/data/`` (SageMaker uploads that folder as
``output.tar.gz``, which the notifier reads) and into ``model/``. See docs/architecture.md.
Everything here is pure: no files, no Ultralytics import.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

from yolo_pipeline.text import finite_number
from yolo_pipeline.training.metric_line import from_ultralytics

RESULTS_VERSION = 1
FINAL_SOURCE_VALIDATION = "best.pt final validation"
FINAL_SOURCE_CSV = "results.csv best epoch"
# Per-class figures beyond the box ones: SegmentMetrics/PoseMetrics.class_result returns the
# box four, then the mask (segment) or keypoint (pose) four.
_EXTRA_PREFIX = {"segment": "mask", "pose": "pose"}
_FIGURES = ("precision", "recall", "mAP50", "mAP50-95")
_NO_PER_CLASS = frozenset({"classify", "depth"})


def _names(names: Mapping[int, str] | Sequence[str]) -> list[str]:
    if isinstance(names, Mapping):
        return [str(names[k]) for k in sorted(names)]
    return [str(n) for n in names]


def per_class_results(
    det_metrics: Any, names: Mapping[int, str] | Sequence[str], task: str = "detect"
) -> list[dict[str, Any]]:
    """One row per class of data.yaml, in its order.

    A class with no validation instances is absent from ``ap_class_index``: its row has
    ``instances == 0`` and ``None`` figures (nothing was measured, which is not 0.0).
    """
    ordered = _names(names)
    counts = getattr(det_metrics, "nt_per_class", None)
    images = getattr(det_metrics, "nt_per_image", None)
    measured: dict[int, Sequence[Any]] = {}
    class_result = getattr(det_metrics, "class_result", None)
    if callable(class_result):
        index = getattr(det_metrics, "ap_class_index", None)  # a numpy array
        for i, cls in enumerate([] if index is None else list(index)):
            measured[int(cls)] = tuple(class_result(i))
    extra = _EXTRA_PREFIX.get(task)
    rows = []
    for index, name in enumerate(ordered):
        row: dict[str, Any] = {
            "class": index,
            "name": name,
            "images": _count(images, index),
            "instances": _count(counts, index),
        }
        values = measured.get(index)
        for position, figure in enumerate(_FIGURES):
            row[figure] = finite_number(values[position]) if values else None
            if extra:
                later = values[4 + position] if values and len(values) >= 8 else None
                row[f"{extra}_{figure}"] = finite_number(later)
        rows.append(row)
    return rows


def semantic_per_class(
    metrics: Any, names: Mapping[int, str] | Sequence[str]
) -> list[dict[str, Any]]:
    """One row per class for semantic segmentation (SemanticMetrics): the images and pixels
    of the class in validation, its IoU and pixel accuracy; ``None`` where it has no pixels."""
    ious = _listed(getattr(metrics, "per_class_iou", None))  # numpy arrays: no truth value
    accs = _listed(getattr(metrics, "per_class_pixel_accuracy", None))
    pixels = getattr(metrics, "nt_per_class", None)
    images = getattr(metrics, "nt_per_image", None)
    rows = []
    for index, name in enumerate(_names(names)):
        present = _count(pixels, index) > 0
        rows.append(
            {
                "class": index,
                "name": name,
                "images": _count(images, index),
                "pixels": _count(pixels, index),
                "IoU": finite_number(ious[index]) if present and index < len(ious) else None,
                "pixel_acc": finite_number(accs[index]) if present and index < len(accs) else None,
            }
        )
    return rows


def _listed(values: Any) -> list[float]:
    return [] if values is None else [float(v) for v in values]


def _per_class(metrics: Any, names: Any, task: str) -> list[dict[str, Any]]:
    """The per-class table that fits the task: none for classify and depth (Ultralytics
    measures them as a whole), IoU for semantic, detection figures otherwise."""
    if metrics is None or task in _NO_PER_CLASS:
        return []
    if task == "semantic":
        return semantic_per_class(metrics, names)
    return per_class_results(metrics, names, task)


def _count(counts: Any, index: int) -> int:
    try:
        return int(counts[index])
    except (TypeError, IndexError, ValueError, KeyError):
        return 0


def capture_final_validation(trainer: Any, task: str = "detect") -> dict[str, Any]:
    """What ``final_eval`` left on the trainer: mean figures (our metric names) and per class.

    Call it from the ``on_fit_epoch_end`` that ``final_eval`` runs after validating best.pt.
    """
    validator = getattr(trainer, "validator", None)
    det_metrics = getattr(validator, "metrics", None)
    names = getattr(det_metrics, "names", None) or {}
    stopper = getattr(trainer, "stopper", None)
    return {
        "metrics": from_ultralytics(dict(getattr(trainer, "metrics", None) or {})),
        "per_class": _per_class(det_metrics, names, task),
        "best_epoch": int(getattr(stopper, "best_epoch", 0) or 0) or None,
    }


def fitness(row: Mapping[str, float]) -> float:
    """Ultralytics 8.4's fitness, which picks best.pt: mAP50-95 (its weights are 0, 0, 0, 1
    over P, R, mAP50, mAP50-95), summed over the row's kinds: box, plus mask or pose; the
    mean of top-1 and top-5 for classify, mIoU for semantic, delta1 for depth."""
    if "metrics/accuracy_top1" in row:
        return (row["metrics/accuracy_top1"] + row.get("metrics/accuracy_top5", 0.0)) / 2
    for key in ("metrics/mIoU", "metrics/delta1"):
        if key in row:
            return row[key]
    return sum(row.get(f"metrics/mAP50-95({kind})", 0.0) for kind in "BMP")


def best_row(rows: Sequence[Mapping[str, float]]) -> Mapping[str, float]:
    """The results.csv row Ultralytics saved as best.pt: highest :func:`fitness`, the first
    one on a tie, as its EarlyStopping keeps the first."""
    best: Mapping[str, float] = {}
    best_fitness = -math.inf
    for row in rows:
        if fitness(row) > best_fitness:
            best, best_fitness = row, fitness(row)
    return best


def stopped_early(epochs_run: int, epochs_requested: int) -> bool:
    """Training ended before the planned epochs: EarlyStopping's patience (or a ``time``
    limit) ended it. A resumed run counts its epochs from the start, so this holds too."""
    return 0 < epochs_run < epochs_requested


def build_results(
    *,
    final_validation: Mapping[str, Any] | None,
    rows: Sequence[Mapping[str, float]],
    epochs_requested: int,
    patience: int | None,
    task: str,
    class_names: Sequence[str],
    dataset: Mapping[str, Any],
    resumed_after_epoch: int | None,
    exports: Sequence[str],
) -> dict[str, Any]:
    """The metrics.json document.

    ``final_validation`` is :func:`capture_final_validation`'s result; without it (a run
    already finished before a restart, or DDP, whose callbacks run in worker processes)
    the final figures fall back to results.csv's best row and there is no per-class table.
    """
    best = best_row(rows)
    csv_best_epoch = int(best.get("epoch", 0)) or None
    epochs_run = len(rows)
    if final_validation and final_validation.get("metrics"):
        final = dict(final_validation["metrics"])
        per_class = list(final_validation.get("per_class") or [])
        best_epoch = final_validation.get("best_epoch") or csv_best_epoch
        source = FINAL_SOURCE_VALIDATION
    else:
        final = from_ultralytics(best)
        per_class = []
        best_epoch, source = csv_best_epoch, FINAL_SOURCE_CSV
    return {
        "version": RESULTS_VERSION,
        "task": task,
        "final": final,
        "final_source": source,
        "best_epoch": best_epoch,
        "epochs_run": epochs_run,
        "epochs_requested": epochs_requested,
        "stopped_early": stopped_early(epochs_run, epochs_requested),
        "patience": patience,
        "resumed_after_epoch": resumed_after_epoch,
        "class_names": [str(n) for n in class_names],
        "per_class": per_class,
        "dataset": dict(dataset),
        "exports": list(exports),
    }


def final_metric_values(results: Mapping[str, Any]) -> dict[str, float]:
    """The values of the last metric line: best.pt's final figures, the epochs run and the
    best epoch (so SageMaker's FinalMetricDataList names it too)."""
    values = {k: float(v) for k, v in dict(results.get("final") or {}).items()}
    if results.get("best_epoch"):
        values["best_epoch"] = float(results["best_epoch"])
    return values
