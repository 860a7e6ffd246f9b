"""The models a job can start from: the ONE list of weights baked into the training image,
Ultralytics' built-in architectures, and how a ``model:`` value is read.

The Dockerfile reads :data:`BAKED` at build time (``python -m yolo_pipeline.training.models
--baked`` prints it, one name a line) and the launcher reads it at request time, so the image
and the launcher's checks cannot disagree. A ``model:`` is one of:

- a baked weight (``yolo26m-seg.pt``, ``yolo11m-seg.pt``);
- a built-in architecture (``yolo26n-sem.yaml``): trained from scratch, nothing loaded;
- ``job:<training job name>``: fine-tune from that earlier job's best.pt;
- any other ``.pt`` name: a file the user put under the stack's weights prefix
  (``s3://<bucket>/weights/<name>``), passed to the job as the ``weights`` channel.

Nothing is ever read from the dataset: an uploaded ``.pt`` is a pickle and an uploaded model
``.yaml`` has its ``activation:`` evaluated, so both would run the uploader's code.

Pure and Lambda-safe: no Ultralytics import.
"""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass
from typing import Final, Literal

from yolo_pipeline.training.tasks import DEFAULT_MODELS, TASK_SUFFIX, TASKS

SIZES: Final[tuple[str, ...]] = ("n", "s", "m")
# The YOLO11 tasks baked before YOLO26 became the default: kept so existing training.yaml
# files naming them still work.
_YOLO11_TASKS: Final[tuple[str, ...]] = ("detect", "segment", "pose", "obb")
# Ultralytics' CUDA AMP check loads this one (ultralytics/utils/checks.py check_amp).
AMP_CHECK_MODEL: Final = "yolo26n.pt"
BAKED: Final[tuple[str, ...]] = tuple(
    dict.fromkeys(
        (
            *(f"yolo26{size}{TASK_SUFFIX[task]}.pt" for task in TASKS for size in SIZES),
            *(
                f"yolo11{size}{TASK_SUFFIX[t]}.pt"
                for t in TASKS
                if t in _YOLO11_TASKS
                for size in SIZES
            ),
            AMP_CHECK_MODEL,
        )
    )
)
assert set(DEFAULT_MODELS.values()) <= set(BAKED), "every default model must be baked"

# Ultralytics' built-in architectures (ultralytics/cfg/models), as a user names them: the
# scale letter in the name (yolo11n-seg.yaml is cfg/models/11/yolo11-seg.yaml at scale n).
_SCALED = re.compile(r"^(?:yolov5|yolov8|yolo11|yolo12)[nsmlx](?:-(?:seg|cls|pose|obb))?\.yaml$")
# YOLO26 has all seven tasks (ultralytics/cfg/models/26).
_SCALED_26 = re.compile(r"^yolo26[nsmlx](?:-(?:seg|sem|depth|cls|pose|obb))?\.yaml$")
_FIXED: Final[frozenset[str]] = frozenset(
    {
        *(f"yolov9{s}.yaml" for s in "tsmce"),
        "yolov9c-seg.yaml",
        "yolov9e-seg.yaml",
        *(f"yolov10{s}.yaml" for s in "nsmblx"),
        "yolov3.yaml",
        "yolov3-tiny.yaml",
        "yolov3-spp.yaml",
        "yolov6n.yaml",
        "yolov6s.yaml",
        "yolov6m.yaml",
        "yolov6l.yaml",
        "yolov6x.yaml",
    }
)
JOB_PREFIX: Final = "job:"
_JOB_NAME = re.compile(r"^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$")  # CreateTrainingJob's pattern
_WEIGHT_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,199}\.pt$")


def is_builtin_architecture(name: str) -> bool:
    return bool(_SCALED.match(name) or _SCALED_26.match(name)) or name in _FIXED


@dataclass(frozen=True)
class ModelRef:
    """What a ``model:`` value names; ``problem`` is set when it cannot be used."""

    kind: Literal["baked", "architecture", "weights", "job", "invalid"]
    name: str  # the baked/architecture name, the weights file name, or the job name
    problem: str = ""
    hint: str = ""


def read_model(value: str) -> ModelRef:
    """Classify a ``model:`` value; never raises."""
    value = value.strip()
    if value in BAKED:
        return ModelRef("baked", value)
    if value.startswith(JOB_PREFIX):
        job = value[len(JOB_PREFIX) :].strip()
        if _JOB_NAME.match(job):
            return ModelRef("job", job)
        return ModelRef(
            "invalid", value, f"{value[:80]!r} does not name a training job", "write job:<job name>"
        )
    if value.endswith((".yaml", ".yml")):
        if is_builtin_architecture(value):
            return ModelRef("architecture", value)
        return ModelRef(
            "invalid",
            value,
            f"{value[:80]!r} is not an Ultralytics built-in architecture",
            "name a built-in one such as yolo26n.yaml or yolo26s-seg.yaml; a model .yaml from "
            "the upload is never read (its activation: would run as code)",
        )
    if _WEIGHT_NAME.match(value):
        return ModelRef("weights", value)
    return ModelRef(
        "invalid",
        value,
        f"{value[:80]!r} is not a model name the job can use",
        f"use a baked model ({', '.join(BAKED[:3])}, ...), a built-in architecture such as "
        "yolo26n.yaml, job:<earlier job>, or the file name of a .pt under the stack's "
        "weights/ prefix (a plain name: no folders, nothing from the dataset)",
    )


def main(argv: list[str] | None = None) -> int:
    """``python -m yolo_pipeline.training.models --baked``: the baked weights, one a line."""
    args = sys.argv[1:] if argv is None else argv
    if args != ["--baked"]:
        print("usage: python -m yolo_pipeline.training.models --baked", file=sys.stderr)
        return 2
    print("\n".join(BAKED))
    return 0


if __name__ == "__main__":
    sys.exit(main())
