"""Training hyperparameters: the user's Ultralytics train arguments, checked without Ultralytics.

A user's ``training.yaml`` (read by the launcher) and SageMaker's ``hyperparameters.json``
(read by the training image) carry the same thing: Ultralytics train arguments under their own
names, plus a few container-level keys. SageMaker passes every value as a string, so the
launcher encodes with :func:`encode_hyperparameters` and the image decodes with
:func:`decode_hyperparameters` (YAML scalars: ``"16"`` -> 16, ``"true"`` -> True).
:func:`check_hyperparameters` mirrors Ultralytics' own type checks (from the generated
:mod:`~yolo_pipeline.training.train_args_generated` snapshot) so a bad value is refused
before a job starts.

Pure and Lambda-safe: no Ultralytics import.
"""

from __future__ import annotations

import difflib
import math
import re
from collections.abc import Mapping
from typing import Any

import yaml

from yolo_pipeline.findings import Finding, error
from yolo_pipeline.text import quote
from yolo_pipeline.training.models import read_model
from yolo_pipeline.training.tasks import DEFAULT_MODELS, TASKS
from yolo_pipeline.training.train_args_generated import (
    BOOL_KEYS,
    DEFAULTS,
    FLOAT_KEYS,
    FRACTION_KEYS,
    INT_KEYS,
    INT_MIN,
    STR_KEYS,
)

# Keys the container sets itself; a user value would break the SageMaker contract.
CONTAINER_OWNED_KEYS: dict[str, str] = {
    "data": "the training image writes its own sanitised data.yaml from the 'dataset' channel",
    "project": "the run folder must live under /opt/ml/checkpoints so spot restarts can resume",
    "name": "the run folder must live under /opt/ml/checkpoints so spot restarts can resume",
    "exist_ok": "the run folder must live under /opt/ml/checkpoints so spot restarts can resume",
    "resume": "the training image resumes on its own when /opt/ml/checkpoints holds a last.pt",
    "save_dir": "the run folder must live under /opt/ml/checkpoints so spot restarts can resume",
    "mode": "the training image only trains",
    "cfg": "a config file path would be read from inside the container; set the keys directly",
}

DEFAULT_MODEL = DEFAULT_MODELS["detect"]  # the launcher sends the task's default (training.tasks)
EXPORT_FORMATS: frozenset[str] = frozenset({"onnx", "torchscript"})  # what the image can export

# Container-level keys that are not Ultralytics train arguments, with their defaults.
CONTAINER_KEYS: dict[str, Any] = {
    "model": DEFAULT_MODEL,  # also an Ultralytics argument; the container picks the default
    "export": "",  # comma-separated formats exported from best.pt into model/, e.g. "onnx"
    # Minutes without a finished epoch before the container stops the run (a hung loader).
    "stall_minutes": 120,
}

MAX_ENTRIES = 100  # CreateTrainingJob HyperParameters limits
MAX_KEY_CHARS = 256
MAX_VALUE_CHARS = 2500

_HINT_FILE = "training.yaml"
# Sanity bounds beyond Ultralytics' own type checks: a value past these is a typo (or an
# attack on the bill), never a real setting. (upper bound, what to say)
UPPER_BOUNDS: dict[str, tuple[int, str]] = {
    "epochs": (10_000, "a few hundred epochs is already a long run"),
    "imgsz": (8192, "images are resized to imgsz; 640 is the default, 1280 is large"),
    "batch": (4096, "use -1 (or 0.7) to size the batch to the GPU automatically"),
}


# YAML 1.1 (PyYAML) reads "1e-3" as a string; people write learning rates that way.
_EXPONENT_FLOAT = re.compile(r"^[-+]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)[eE][-+]?[0-9]+$")


def decode_value(raw: str) -> Any:
    """One SageMaker hyperparameter string as a YAML scalar (or list); unparsable stays a string."""
    try:
        value = yaml.safe_load(raw)
    except yaml.YAMLError:
        return raw
    # YAML 1.1 reads "1e-3" as a string; users mean a float. Only when unquoted, so the
    # encoder can still say "the string 1e-3" by quoting it.
    if isinstance(value, str) and _EXPONENT_FLOAT.match(raw.strip()):
        return float(value)
    return value


def decode_hyperparameters(raw: Mapping[str, str]) -> dict[str, Any]:
    """SageMaker's string-to-string hyperparameters as typed values (YAML scalar rules)."""
    return {str(k): decode_value(v) if isinstance(v, str) else v for k, v in raw.items()}


def encode_value(value: Any) -> str:
    """A typed value as the string that :func:`decode_value` turns back into it."""
    if isinstance(value, str):
        # Plain when that reads back as the same string (readable in the console), else a
        # YAML double-quoted scalar: PyYAML's own escaping reads back exactly (JSON's does
        # not: YAML decodes a \ud800\udc00 surrogate-pair escape as two lone surrogates).
        if decode_value(value) == value:
            return value
        quoted = yaml.safe_dump(value, default_style='"', width=10**6, allow_unicode=True)
        return quoted.removesuffix("\n...\n").strip()
    # ASCII with escapes: a raw NEL (\x85) inside a flow list would read back as a line break.
    text = yaml.safe_dump(value, default_flow_style=True, width=10**6)
    return text.removesuffix("\n...\n").strip()


def encode_hyperparameters(values: Mapping[str, Any]) -> dict[str, str]:
    """Typed values as CreateTrainingJob HyperParameters; ValueError past SageMaker's limits."""
    if len(values) > MAX_ENTRIES:
        raise ValueError(f"{len(values)} hyperparameters; SageMaker allows at most {MAX_ENTRIES}")
    out: dict[str, str] = {}
    for key, value in values.items():
        text = encode_value(value)
        if len(key) > MAX_KEY_CHARS or len(text) > MAX_VALUE_CHARS:
            raise ValueError(
                f"hyperparameter {key!r} is too long (key <= {MAX_KEY_CHARS}, "
                f"value <= {MAX_VALUE_CHARS} characters)"
            )
        out[str(key)] = text
    return out


def valid_keys() -> list[str]:
    """Every key a user may set: Ultralytics arguments and container keys, minus owned ones."""
    keys = set(DEFAULTS) | set(CONTAINER_KEYS)
    return sorted(keys - set(CONTAINER_OWNED_KEYS))


def _is_number(v: Any) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool)


# One branch per rule of Ultralytics' check_cfg, in its order: it reads best as one table.
def _type_problem(key: str, value: Any) -> str | None:  # noqa: C901, PLR0911, PLR0912
    """What is wrong with ``value`` for ``key``, mirroring ultralytics.cfg.check_cfg(hard=True)."""
    if value is None:
        if key == "amp" or (DEFAULTS.get(key) is not None and key != "auto_augment"):
            return "must not be empty"
        return None
    if key in FLOAT_KEYS and not _is_number(value):
        return f"must be a number, got {quote(value)}"
    if key == "fraction":
        if isinstance(value, list):
            ok = len(value) in (2, 3) and all(_is_number(x) and x >= 0 for x in value)
            return None if ok else f"must be [train, val] or [train, val, test], got {quote(value)}"
        if not _is_number(value) or not (0 < value <= 1 or (isinstance(value, int) and value > 1)):
            return f"must be a ratio in (0, 1] or a count > 1, got {quote(value)}"
        return None
    if key in FRACTION_KEYS:
        if not _is_number(value) or not 0.0 <= value <= 1.0:
            return f"must be a number between 0.0 and 1.0, got {quote(value)}"
        return None
    if key in INT_KEYS:
        if not _is_number(value) or (isinstance(value, float) and not value.is_integer()):
            return f"must be a whole number, got {quote(value)}"
        if key in INT_MIN and value < INT_MIN[key]:
            return f"must be >= {INT_MIN[key]}, got {quote(value)}"
        return None
    if key in BOOL_KEYS and not isinstance(value, bool):
        return f"must be true or false, got {quote(value)}"
    if key in STR_KEYS and not isinstance(value, str):
        return f"must be text, got {quote(value)}"
    amp_ok = isinstance(value, bool) or str(value).lower() in {"fp16", "bf16", "fp32"}
    if key == "amp" and not amp_ok:
        return f"must be true, false, fp16, bf16 or fp32, got {quote(value)}"
    if key == "imgsz" and not (
        (_is_number(value) and value > 0)
        or (isinstance(value, list) and value and all(_is_number(x) and x > 0 for x in value))
    ):
        return f"must be a positive whole number of pixels, got {quote(value)}"
    if isinstance(value, float) and not math.isfinite(value):
        return f"must be a finite number, got {quote(value)}"
    return None


def _bound_problem(key: str, value: Any) -> str | None:
    """``epochs``, ``imgsz``, ``batch`` above :data:`UPPER_BOUNDS` (types already checked)."""
    if key not in UPPER_BOUNDS:
        return None
    limit, why = UPPER_BOUNDS[key]
    values = value if isinstance(value, list) else [value]
    if any(_is_number(v) and v > limit for v in values):
        return f"is {quote(value, 40)}; the limit is {limit:,} ({why})"
    return None


def _check_container_key(key: str, value: Any, file: str) -> list[Finding]:
    if key == "export":
        formats = parse_export(value)
        bad = [f for f in formats if f not in EXPORT_FORMATS]
        if bad:
            return [
                error(
                    file,
                    f"unsupported export format(s) {', '.join(bad)}",
                    field=key,
                    hint=f"use one or more of {', '.join(sorted(EXPORT_FORMATS))}, comma-separated",
                )
            ]
    if key == "stall_minutes" and (
        isinstance(value, bool) or not isinstance(value, int | float) or not 0 < value <= 10_080
    ):
        return [error(file, "must be minutes, more than 0 and at most 10080", field=key)]
    if key == "model":
        if not isinstance(value, str) or not value.strip():
            return [error(file, "must be a model name such as yolo26n.pt", field=key)]
        ref = read_model(value)
        if ref.problem:
            return [error(file, ref.problem, field=key, hint=ref.hint)]
    return []


def _model_key_problem(key: str, value: Any) -> str | None:
    """``task``, ``pretrained`` and ``distill_model``: nothing may point into the upload."""
    if key == "task" and value not in TASKS:
        return f"{str(value)[:40]!r} is not supported; use one of {', '.join(TASKS)}"
    if key == "pretrained" and not isinstance(value, bool):
        return "must be true or false: starting weights are named by model: (never a path)"
    if (
        key == "distill_model"
        and value not in (None, "")
        and read_model(str(value)).kind != "baked"
    ):
        return (
            "must be a model baked into the training image (a teacher is never loaded from a path)"
        )
    return None


def parse_export(value: Any) -> list[str]:
    """The ``export`` key as a list of lower-case format names ("onnx, torchscript" or a list)."""
    if value in (None, "", False):
        return []
    items = value if isinstance(value, list) else str(value).split(",")
    return [str(item).strip().lower() for item in items if str(item).strip()]


def check_hyperparameters(values: Mapping[str, Any], file: str = _HINT_FILE) -> list[Finding]:
    """Every problem with typed hyperparameters, each naming the key and what to do."""
    findings: list[Finding] = []
    if len(values) > MAX_ENTRIES:
        findings.append(
            error(file, f"{len(values)} keys; SageMaker allows {MAX_ENTRIES}", hint="remove some")
        )
    allowed = valid_keys()
    for key, value in values.items():
        if key in CONTAINER_OWNED_KEYS:
            findings.append(
                error(
                    file,
                    f"is set by the training image: {CONTAINER_OWNED_KEYS[key]}",
                    field=key,
                    hint=f"remove '{key}'",
                )
            )
            continue
        if key not in DEFAULTS and key not in CONTAINER_KEYS:
            close = difflib.get_close_matches(str(key), allowed, n=3, cutoff=0.6)
            hint = (
                f"did you mean {' or '.join(close)}?"
                if close
                else "see https://docs.ultralytics.com/usage/cfg/#train-settings"
            )
            findings.append(
                error(file, "is not an Ultralytics training argument", field=key, hint=hint)
            )
            continue
        if key in CONTAINER_KEYS:
            findings.extend(_check_container_key(key, value, file))
            continue
        problem = (
            _type_problem(key, value)
            or _model_key_problem(key, value)
            or _bound_problem(key, value)
        )
        if problem:
            default = DEFAULTS.get(key)
            hint = f"the default is {encode_value(default)}" if default is not None else ""
            findings.append(error(file, problem, field=key, hint=hint))
        elif len(encode_value(value)) > MAX_VALUE_CHARS:
            findings.append(
                error(file, f"value longer than {MAX_VALUE_CHARS} characters", field=key)
            )
    return findings
