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

PREFIX = METRIC_LINE_PREFIX

# The metrics a detection run reports, in log order. "epoch" is 1-based.
METRIC_NAMES: tuple[str, ...] = (
    "epoch",
    "train:box_loss",
    "train:cls_loss",
    "train:dfl_loss",
    "val:box_loss",
    "val:cls_loss",
    "val:dfl_loss",
    "val:precision",
    "val:recall",
    "val:mAP50",
    "val:mAP50-95",
    "lr",
    "best_epoch",  # only on the last line: best.pt's final validation (issue 14)
)

# A decimal or exponent float; deliberately not nan/inf.
_NUMBER = r"[-+]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][-+]?[0-9]+)?"
_NAME_OK = re.compile(r"^[A-Za-z0-9:_.()/-]+$")
_TOKEN = re.compile(r"(\S+)=(\S+)")


def _regex(name: str) -> str:
    # The leading whitespace anchors the whole name, so "val:mAP50" never matches
    # "val:mAP50-95" and "train:box_loss" never matches "val:box_loss".
    return rf"{PREFIX}\b.*?\s{re.escape(name)}=({_NUMBER})"


METRIC_DEFINITIONS: list[dict[str, str]] = [{"Name": n, "Regex": _regex(n)} for n in METRIC_NAMES]

# Ultralytics trainer keys (trainer.metrics, trainer.label_loss_items) -> our names.
_ULTRALYTICS_NAMES: dict[str, str] = {
    "train/box_loss": "train:box_loss",
    "train/cls_loss": "train:cls_loss",
    "train/dfl_loss": "train:dfl_loss",
    "val/box_loss": "val:box_loss",
    "val/cls_loss": "val:cls_loss",
    "val/dfl_loss": "val:dfl_loss",
    "metrics/precision(B)": "val:precision",
    "metrics/recall(B)": "val:recall",
    "metrics/mAP50(B)": "val:mAP50",
    "metrics/mAP50-95(B)": "val:mAP50-95",
    "lr/pg0": "lr",
}


def from_ultralytics(values: Mapping[str, float]) -> dict[str, float]:
    """Rename the Ultralytics trainer's metric keys to ours, dropping the ones we do not log."""
    return {_ULTRALYTICS_NAMES[k]: float(v) for k, v in values.items() if k in _ULTRALYTICS_NAMES}


def _format_value(value: float) -> str:
    if math.isnan(value) or math.isinf(value):
        return str(value)  # "nan", "inf": printed for humans, ignored by the regexes
    return f"{value:.6g}"


def format_metric_line(epoch: int, values: Mapping[str, float]) -> str:
    """One log line: the prefix, ``epoch=N``, then ``name=value`` in :data:`METRIC_NAMES` order.

    Names outside :data:`METRIC_NAMES` follow in the given order (logged, not scraped).
    """
    ordered = [n for n in METRIC_NAMES if n in values and n != "epoch"]
    ordered += [n for n in values if n not in METRIC_NAMES]
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
