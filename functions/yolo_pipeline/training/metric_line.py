"""The per-epoch metric log line and the SageMaker MetricDefinitions that read it.

The training image prints one line per epoch with :func:`format_metric_line`; the launcher puts
:data:`METRIC_DEFINITIONS` in CreateTrainingJob so SageMaker scrapes those lines into
CloudWatch. Both live here so the log and the request cannot drift apart.

A line looks like::

    YOLO_METRICS epoch=3 train:box_loss=1.234 ... val:mAP50=0.5 val:mAP50-95=0.31

Names never contain spaces or ``=``; values are plain floats (``nan``/``inf`` are printed but
no regex matches them, so SageMaker skips them instead of recording garbage).
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping

from yolo_pipeline.contract import METRIC_LINE_PREFIX
from yolo_pipeline.training.tasks import TASKS, Task

PREFIX = METRIC_LINE_PREFIX

# Loss names per task, as Ultralytics' criteria name them (ultralytics/utils/loss.py); the
# last one of pose (rle) and OBB (angle) only appear for some model families.
LOSSES: dict[Task, tuple[str, ...]] = {
    "detect": ("box_loss", "cls_loss", "dfl_loss"),
    "segment": ("box_loss", "seg_loss", "cls_loss", "dfl_loss", "sem_loss"),
    "semantic": ("ce_loss", "dice_loss", "aux_loss"),
    "depth": ("dlog_loss", "dgrad_loss"),
    "classify": ("loss",),
    "pose": ("box_loss", "pose_loss", "kobj_loss", "cls_loss", "dfl_loss", "rle_loss"),
    "obb": ("box_loss", "cls_loss", "dfl_loss", "angle_loss"),
}
_QUALITY = ("precision", "recall", "mAP50", "mAP50-95")
# Ultralytics' metric suffix -> our name prefix: (B)ox, (M)ask, (P)ose.
_KINDS = {"B": "", "M": "mask_", "P": "pose_"}
_TASK_KINDS: dict[Task, tuple[str, ...]] = {
    "detect": ("B",),
    "segment": ("B", "M"),
    "pose": ("B", "P"),
    "obb": ("B",),
}
# The tasks without boxes: their quality metrics, Ultralytics' key -> ours, in log order
# (ClassifyMetrics, SemanticMetrics, DepthMetrics .keys).
_PLAIN_QUALITY: dict[Task, dict[str, str]] = {
    "classify": {"metrics/accuracy_top1": "val:top1", "metrics/accuracy_top5": "val:top5"},
    "semantic": {"metrics/mIoU": "val:mIoU", "metrics/pixel_acc": "val:pixel_acc"},
    "depth": {
        f"metrics/{n}": f"val:{n}"
        for n in ("delta1", "delta2", "delta3", "abs_rel", "rmse", "silog")
    },
}
_FROM_ULTRALYTICS = {k: v for table in _PLAIN_QUALITY.values() for k, v in table.items()}
# The one number an email or `status` leads with, per task (Ultralytics' TASK2METRIC).
HEADLINE: dict[Task, str] = {
    "detect": "val:mAP50-95",
    "segment": "val:mask_mAP50-95",
    "semantic": "val:mIoU",
    "depth": "val:delta1",
    "classify": "val:top1",
    "pose": "val:pose_mAP50-95",
    "obb": "val:mAP50-95",
}
# Errors, not scores: a smaller value is the better model.
LOWER_IS_BETTER: frozenset[str] = frozenset({"val:abs_rel", "val:rmse", "val:silog"})
_LABELS = {
    "val:top1": "top-1 accuracy",
    "val:top5": "top-5 accuracy",
    "val:pixel_acc": "pixel accuracy",
}


def _quality(task: Task) -> list[str]:
    if task in _PLAIN_QUALITY:
        return list(_PLAIN_QUALITY[task].values())
    return [f"val:{_KINDS[k]}{q}" for k in _TASK_KINDS[task] for q in _QUALITY]


def metric_names(task: Task = "detect") -> tuple[str, ...]:
    """What a run of ``task`` reports, in log order. "epoch" is 1-based."""
    losses = LOSSES[task]
    return (
        "epoch",
        *(f"train:{n}" for n in losses),
        *(f"val:{n}" for n in losses),
        *_quality(task),
        "lr",
        "best_epoch",  # only on the last line: best.pt's final validation
    )


def headline_metric(task: object) -> str:
    """The task's headline metric name (box mAP50-95 for an unknown task)."""
    for name, metric in HEADLINE.items():
        if task == name:
            return metric
    return HEADLINE["detect"]


def second_metric(task: object) -> str:
    """The figure `status` and `models` show beside the headline: mAP50 of the headline's
    kind; top-5 for classify, pixel accuracy for semantic, abs_rel for depth."""
    headline = headline_metric(task)
    for plain in _PLAIN_QUALITY.values():
        names = list(plain.values())
        if headline == names[0]:
            return names[1] if headline != "val:delta1" else "val:abs_rel"
    return headline.removesuffix("-95")


def higher_is_better(name: str) -> bool:
    """Whether a larger value of metric ``name`` is the better model (abs_rel, rmse and silog
    are errors: smaller is better)."""
    return name not in LOWER_IS_BETTER


def headline_label(name: str) -> str:
    """'val:mask_mAP50-95' -> 'mask mAP50-95', 'val:top1' -> 'top-1 accuracy' (how emails and
    `status` title it)."""
    return _LABELS.get(name) or name.removeprefix("val:").replace("_", " ")


def task_of(hyperparameters: Mapping[str, object] | None) -> Task:
    """A job's task from its HyperParameters (``detect`` for jobs from before the key)."""
    raw = str((hyperparameters or {}).get("task") or "").strip().strip('"')
    for task in TASKS:
        if raw == task:
            return task
    return "detect"


def quality_names(task: Task) -> list[tuple[str, str]]:
    """(label, metric) of the task's quality metrics, headline first: box for detect and
    OBB; mask then box for segment; pose then box for pose; top-1 then top-5 for classify;
    mIoU then pixel accuracy for semantic; delta1..3 then the errors for depth."""
    if task in _PLAIN_QUALITY:
        return [(headline_label(n), n) for n in _PLAIN_QUALITY[task].values()]
    kinds = sorted(_TASK_KINDS[task], key=lambda k: k == "B")
    shown = ("mAP50-95", "mAP50", "precision", "recall")
    return [
        (f"{_KINDS[k].replace('_', ' ')}{q}", f"val:{_KINDS[k]}{q}") for k in kinds for q in shown
    ]


METRIC_NAMES: tuple[str, ...] = metric_names("detect")

# A decimal or exponent float; deliberately not nan/inf.
_NUMBER = r"[-+]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][-+]?[0-9]+)?"
_NAME_OK = re.compile(r"^[A-Za-z0-9:_.()/-]+$")
_TOKEN = re.compile(r"(\S+)=(\S+)")
_ULTRALYTICS_QUALITY = re.compile(r"^metrics/(precision|recall|mAP50|mAP50-95)\(([BMP])\)$")
_ULTRALYTICS_LOSS = re.compile(r"^(train|val)/([a-z0-9_]*loss)$")


def _regex(name: str) -> str:
    # The leading whitespace anchors the whole name, so "val:mAP50" never matches
    # "val:mAP50-95" and "train:box_loss" never matches "val:box_loss".
    return rf"{PREFIX}\b.*?\s{re.escape(name)}=({_NUMBER})"


def metric_definitions(task: Task = "detect") -> list[dict[str, str]]:
    """CreateTrainingJob MetricDefinitions for ``task`` (at most 40, SageMaker's limit)."""
    return [{"Name": n, "Regex": _regex(n)} for n in metric_names(task)]


METRIC_DEFINITIONS: list[dict[str, str]] = metric_definitions("detect")


def _our_name(key: str) -> str | None:
    if key == "lr/pg0":
        return "lr"
    if key in _FROM_ULTRALYTICS:
        return _FROM_ULTRALYTICS[key]
    quality = _ULTRALYTICS_QUALITY.match(key)
    if quality:
        return f"val:{_KINDS[quality.group(2)]}{quality.group(1)}"
    loss = _ULTRALYTICS_LOSS.match(key)
    if loss:
        return f"{loss.group(1)}:{loss.group(2)}"
    return None


def from_ultralytics(values: Mapping[str, float]) -> dict[str, float]:
    """Rename the Ultralytics trainer's metric keys to ours, dropping the ones we do not log:
    ``metrics/mAP50-95(M)`` -> ``val:mask_mAP50-95``, ``train/seg_loss`` -> ``train:seg_loss``."""
    out: dict[str, float] = {}
    for key, value in values.items():
        name = _our_name(key)
        if name is not None:
            out[name] = float(value)
    return out


_ALL_NAMES: tuple[str, ...] = tuple(dict.fromkeys(n for task in TASKS for n in metric_names(task)))


def _format_value(value: float) -> str:
    if math.isnan(value) or math.isinf(value):
        return str(value)  # "nan", "inf": printed for humans, ignored by the regexes
    return f"{value:.6g}"


def format_metric_line(epoch: int, values: Mapping[str, float]) -> str:
    """One log line: the prefix, ``epoch=N``, then ``name=value`` in :func:`metric_names` order
    (of every task: box, then mask and pose); other names follow in the given order.
    """
    known = _ALL_NAMES
    ordered = [n for n in known if n in values and n != "epoch"]
    ordered += [n for n in values if n not in known]
    parts = [PREFIX, f"epoch={int(epoch)}"]
    for name in ordered:
        if not _NAME_OK.match(name):
            raise ValueError(f"metric name {name!r} must have no spaces or '='")
        parts.append(f"{name}={_format_value(float(values[name]))}")
    return " ".join(parts)


def parse_metric_lines(text: str) -> list[dict[str, float]]:
    """Every metric line in ``text`` (a log), as ``{name: value}`` dicts in log order."""
    rows: list[dict[str, float]] = []
    for line in text.splitlines():
        start = line.find(PREFIX + " ")
        if start < 0:
            continue
        row: dict[str, float] = {}
        for name, raw in _TOKEN.findall(line[start + len(PREFIX) :]):
            try:
                row[name] = float(raw)
            except ValueError:
                continue
        if "epoch" in row:
            rows.append(row)
    return rows
