"""The optional ``training.yaml`` beside data.yaml: Ultralytics train arguments plus a
``sagemaker:`` section, parsed safely and checked before any job starts.

Pure: takes the file's text and the stack's SageMaker defaults, returns the effective options and
every finding (with the line it is on). Train arguments are checked by
:func:`yolo_pipeline.training.hyperparameters.check_hyperparameters`, which mirrors the pinned
Ultralytics' own checks from the generated :mod:`~yolo_pipeline.training.train_args_generated`
snapshot.

Example::

    epochs: 50
    imgsz: 640
    sagemaker:
      instance_type: ml.g5.xlarge
      spot: true
      max_runtime_hours: 6
      volume_size_gb: 100
      input_mode: FastFile
"""

from __future__ import annotations

import dataclasses
import difflib
import math
from dataclasses import dataclass, field
from typing import Any

import yaml

from yolo_pipeline import safe_yaml
from yolo_pipeline.contract import INPUT_MODES, TRAINING_YAML
from yolo_pipeline.findings import Finding, error
from yolo_pipeline.text import quote
from yolo_pipeline.training.hyperparameters import check_hyperparameters

FILE = TRAINING_YAML
MAX_BYTES = 64 * 1024  # a config, not a dataset: refuse anything bigger before parsing
MAX_VOLUME_GB = 16384  # CreateTrainingJob VolumeSizeInGB limit
DEFAULT_INSTANCE_TYPE = "ml.g4dn.xlarge"
DEFAULT_ALLOWED_INSTANCE_TYPES = (
    "ml.g4dn.xlarge",
    "ml.g4dn.2xlarge",
    "ml.g5.xlarge",
    "ml.g5.2xlarge",
    "ml.g6.xlarge",
    "ml.p3.2xlarge",
    "ml.m5.xlarge",
    "ml.c5.2xlarge",
)
SAGEMAKER_KEYS = (
    "instance_type",
    "spot",
    "max_runtime_hours",
    "volume_size_gb",
    "input_mode",
    "instance_count",
)


@dataclass(frozen=True)
class SageMakerDefaults:
    """The stack's defaults and bounds for a job; the field defaults are the template's."""

    instance_type: str = DEFAULT_INSTANCE_TYPE
    allowed_instance_types: tuple[str, ...] = DEFAULT_ALLOWED_INSTANCE_TYPES
    use_spot: bool = True
    max_runtime_seconds: int = 24 * 3600
    volume_size_gb: int = 50
    input_mode: str = "File"


@dataclass(frozen=True)
class SageMakerOptions:
    """Where and how the job runs: the stack defaults, overridden by training.yaml."""

    instance_type: str
    spot: bool
    max_runtime_seconds: int
    volume_size_gb: int
    input_mode: str

    @classmethod
    def defaults(cls, settings: SageMakerDefaults) -> SageMakerOptions:
        return cls(
            instance_type=settings.instance_type,
            spot=settings.use_spot,
            max_runtime_seconds=settings.max_runtime_seconds,
            volume_size_gb=settings.volume_size_gb,
            input_mode=settings.input_mode,
        )


@dataclass(frozen=True)
class TrainingConfig:
    train_args: dict[str, Any]
    sagemaker: SageMakerOptions
    errors: list[Finding] = field(default_factory=list)
    warnings: list[Finding] = field(default_factory=list)

    @property
    def valid(self) -> bool:
        return not self.errors


def _key_lines(root: yaml.Node | None) -> tuple[dict[str, int], dict[str, int], list[Finding]]:
    """1-based lines of top-level and ``sagemaker:`` keys, plus duplicate-key errors."""
    top: dict[str, int] = {}
    section: dict[str, int] = {}
    dupes: list[Finding] = []

    def collect(node: yaml.Node, into: dict[str, int], where: str) -> None:
        if not isinstance(node, yaml.MappingNode):
            return
        for key_node, _ in node.value:
            key = str(key_node.value)
            line = key_node.start_mark.line + 1
            if key in into:
                dupes.append(
                    error(
                        FILE,
                        f"is set twice{where} (also on line {into[key]})",
                        line=line,
                        field=key,
                        hint="keep one",
                    )
                )
            into[key] = line

    if root is not None:
        collect(root, top, "")
        if isinstance(root, yaml.MappingNode):
            for key_node, value_node in root.value:
                if key_node.value == "sagemaker":
                    collect(value_node, section, " in sagemaker")
    return top, section, dupes


def _with_line(finding: Finding, lines: dict[str, int]) -> Finding:
    line = lines.get(finding.field or "") if finding.line is None else finding.line
    return dataclasses.replace(finding, file=FILE, line=line)


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


# One block per sagemaker: option, each with its own message: read best side by side.
def _sagemaker_options(  # noqa: C901, PLR0912
    section: dict[str, Any], settings: SageMakerDefaults, lines: dict[str, int]
) -> tuple[SageMakerOptions, list[Finding]]:
    opts = SageMakerOptions.defaults(settings)
    problems: list[Finding] = []

    def bad(key: str, message: str, hint: str) -> None:
        problems.append(
            error(FILE, message, line=lines.get(key), field=f"sagemaker.{key}", hint=hint)
        )

    for key in section:
        if key not in SAGEMAKER_KEYS:
            close = difflib.get_close_matches(str(key), SAGEMAKER_KEYS, n=1, cutoff=0.6)
            bad(
                str(key),
                "is not a sagemaker option",
                f"did you mean {close[0]}?" if close else f"use one of {', '.join(SAGEMAKER_KEYS)}",
            )

    if "instance_type" in section:
        value = section["instance_type"]
        allowed = settings.allowed_instance_types
        if not isinstance(value, str) or value not in allowed:
            bad(
                "instance_type",
                f"{quote(value)} is not allowed by this stack",
                f"use one of {', '.join(allowed)} (the stack's ALLOWED_INSTANCE_TYPES)",
            )
        else:
            opts = dataclasses.replace(opts, instance_type=value)
    if "spot" in section:
        if not isinstance(section["spot"], bool):
            bad("spot", f"must be true or false, got {quote(section['spot'])}", "write spot: true")
        else:
            opts = dataclasses.replace(opts, spot=section["spot"])
    if "max_runtime_hours" in section:
        value = section["max_runtime_hours"]
        cap_hours = settings.max_runtime_seconds / 3600
        if not _is_number(value) or not math.isfinite(value) or value <= 0:
            bad("max_runtime_hours", f"must be a positive number, got {quote(value)}", "e.g. 6")
        elif value > cap_hours:
            bad(
                "max_runtime_hours",
                f"{value:g} h is above this stack's limit of {cap_hours:g} h",
                f"use at most {cap_hours:g}, or raise the stack's MAX_RUNTIME_SECONDS",
            )
        else:
            opts = dataclasses.replace(opts, max_runtime_seconds=max(60, round(value * 3600)))
    if "volume_size_gb" in section:
        value = section["volume_size_gb"]
        if not isinstance(value, int) or isinstance(value, bool) or not 1 <= value <= MAX_VOLUME_GB:
            bad(
                "volume_size_gb",
                f"must be a whole number of GB from 1 to {MAX_VOLUME_GB}, got {quote(value)}",
                "size it to about 2x the dataset plus 10 GB",
            )
        else:
            opts = dataclasses.replace(opts, volume_size_gb=value)
    if "input_mode" in section:
        value = section["input_mode"]
        if value not in INPUT_MODES:
            bad(
                "input_mode",
                f"must be File or FastFile, got {quote(value)}",
                "File copies the dataset to the instance; FastFile streams it",
            )
        else:
            opts = dataclasses.replace(opts, input_mode=value)
    if "instance_count" in section and section["instance_count"] != 1:
        bad(
            "instance_count",
            f"must be 1, got {quote(section['instance_count'])}: Ultralytics has no "
            "multi-node mode",
            "remove instance_count; pick a bigger instance_type to train faster",
        )
    return opts, problems


def parse_training_config(text: str | bytes | None, stack: SageMakerDefaults) -> TrainingConfig:
    """Parse and check ``training.yaml`` (``None``: no file, the stack defaults apply)."""
    defaults = SageMakerOptions.defaults(stack)
    if text is None:
        return TrainingConfig({}, defaults)
    loaded = safe_yaml.load(text, FILE, MAX_BYTES)
    if not loaded.ok:
        return TrainingConfig({}, defaults, loaded.findings)
    root, data = loaded.node, loaded.data
    if data is None:
        return TrainingConfig({}, defaults)
    if not isinstance(data, dict):
        return TrainingConfig(
            {},
            defaults,
            [error(FILE, "must be a mapping of key: value lines", hint="e.g. 'epochs: 50'")],
        )
    top_lines, section_lines, problems = _key_lines(root)
    data = {str(k): v for k, v in data.items()}
    section = data.pop("sagemaker", None) or {}
    options = defaults
    if not isinstance(section, dict):
        problems.append(
            error(
                FILE,
                "must be a mapping of option: value lines",
                line=top_lines.get("sagemaker"),
                field="sagemaker",
                hint="e.g. 'sagemaker:' then '  instance_type: ml.g4dn.xlarge'",
            )
        )
    else:
        options, more = _sagemaker_options(
            {str(k): v for k, v in section.items()}, stack, section_lines
        )
        problems.extend(more)
    for finding in check_hyperparameters(data, FILE):
        problems.append(_with_line(finding, top_lines))
    problems.sort(key=lambda f: f.line or 0)
    errors = [f for f in problems if f.severity == "error"]
    warnings = [f for f in problems if f.severity == "warning"]
    return TrainingConfig(data, options, errors, warnings)
