"""Ultralytics-style ``key=value`` overrides (``epochs=50 imgsz=640 model=yolo26s.pt``) and
the training.yaml they make (pure).

Each value is read as one YAML scalar, as Ultralytics reads its command line (``50`` is a
number, ``true`` a boolean, ``yolo26s.pt`` a string); ``sagemaker.instance_type=...`` sets
an option of the ``sagemaker:`` section. The result is the user's training.yaml with the
overrides on top, checked afterwards by the same rules as any training.yaml.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import yaml

from yolo_pipeline import safe_yaml
from yolo_pipeline.contract import TRAINING_YAML
from yolo_pipeline.errors import UsageError
from yolo_pipeline.text import quote
from yolo_pipeline.training.config import MAX_BYTES

SECTION = "sagemaker"
MAX_OVERRIDES = 100


def is_override(text: str) -> bool:
    """``key=value`` (not an S3 URI or a path that merely holds ``=``)."""
    key, sep, _ = text.partition("=")
    return bool(sep) and bool(key) and "/" not in key and not text.startswith("s3://")


def parse_overrides(items: Sequence[str]) -> dict[str, Any]:
    """``["epochs=50", "sagemaker.spot=false"]`` -> ``{"epochs": 50, "sagemaker.spot": False}``."""
    if len(items) > MAX_OVERRIDES:
        raise UsageError(f"{len(items)} overrides: at most {MAX_OVERRIDES}")
    out: dict[str, Any] = {}
    for item in items:
        if not is_override(item):
            raise UsageError(f"{quote(item)} is not key=value (e.g. epochs=50)")
        key, _, raw = item.partition("=")
        try:
            value = yaml.safe_load(raw) if raw.strip() else ""
        except yaml.YAMLError:
            value = raw
        if isinstance(value, dict | list):  # one scalar per key, as on Ultralytics' line
            value = raw
        out[key.strip()] = value
    return out


def merged_training_yaml(current: bytes | None, overrides: dict[str, Any]) -> str:
    """training.yaml's text with ``overrides`` on top; comments are not kept. A current
    file that does not parse is left for the check to report, so it raises UsageError here."""
    data: dict[str, Any] = {}
    if current is not None:
        loaded = safe_yaml.load(current, TRAINING_YAML, MAX_BYTES)
        if not loaded.ok or not isinstance(loaded.data, dict | None):
            raise UsageError(
                f"{TRAINING_YAML} does not parse, so overrides cannot be added to it: "
                "run `yolo-pipeline validate` and fix it first"
            )
        data = {str(k): v for k, v in (loaded.data or {}).items()}
    for key, value in overrides.items():
        section, dot, option = key.partition(".")
        if dot and section == SECTION:
            current_section = data.get(SECTION)
            merged = dict(current_section) if isinstance(current_section, dict) else {}
            merged[option] = value
            data[SECTION] = merged
        else:
            data[key] = value
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True)


def describe_overrides(overrides: dict[str, Any]) -> str:
    """One line for the plan: ``epochs=50, imgsz=640``."""
    return ", ".join(
        f"{k}={quote(v, 60) if isinstance(v, str) else v}" for k, v in overrides.items()
    )
