"""Which Ultralytics task a job trains, and which model it starts from.

One rule, used by the validator, the launcher, local mode and the training image:

1. ``task:`` in training.yaml (an Ultralytics argument) wins;
2. otherwise the model named decides (``-seg``, ``-sem``, ``-depth``, ``-cls``, ``-pose``,
   ``-obb``; a plain YOLO name is detect);
3. otherwise the dataset decides (dataset.tasks.inference): ``task: classify`` in data.yaml or
   class folders without one mean classify, ``masks_dir``/``label_mapping`` or a ``masks/``
   folder mean semantic, ``depth_scale``/``max_depth`` or a ``depth/`` folder mean depth,
   ``kpt_shape`` means pose, polygon rows mean segment, anything else detect. OBB rows look
   like 4-point polygons, so OBB needs ``task: obb`` or an OBB model.

Pure and Lambda-safe: no Ultralytics import.
"""

from __future__ import annotations

import re
from typing import Final, Literal, TypeGuard

from yolo_pipeline import safe_yaml
from yolo_pipeline.contract import TRAINING_YAML

# Ultralytics' seven (ultralytics/cfg/__init__.py TASKS), in its order.
Task = Literal["detect", "segment", "semantic", "depth", "classify", "pose", "obb"]
TASKS: Final[tuple[Task, ...]] = (
    "detect",
    "segment",
    "semantic",
    "depth",
    "classify",
    "pose",
    "obb",
)
# The model-name suffix of each task (yolo26n-sem.pt); detect has none.
TASK_SUFFIX: Final[dict[Task, str]] = {
    "detect": "",
    "segment": "-seg",
    "semantic": "-sem",
    "depth": "-depth",
    "classify": "-cls",
    "pose": "-pose",
    "obb": "-obb",
}

# The model a job starts from when training.yaml names none (all baked into the image): the
# task's YOLO26 n weight, as Ultralytics' TASK2MODEL.
DEFAULT_MODELS: Final[dict[Task, str]] = {t: f"yolo26n{TASK_SUFFIX[t]}.pt" for t in TASKS}

_SUFFIX_TASK: Final[dict[str, Task]] = {
    suffix.lstrip("-"): task for task, suffix in TASK_SUFFIX.items() if suffix
}
# Ultralytics' own families (ultralytics/cfg/models): a name from one of them with no task
# suffix is a detection model. Anything else (best.pt, my-model.pt) tells nothing.
_YOLO_NAME = re.compile(
    r"^(?:yolov3|yolov5|yolov6|yolov8|yolov9|yolov10|yolo11|yolo12|yolo26)[a-z0-9-]*$"
)


def is_task(value: object) -> TypeGuard[Task]:
    return value in TASKS


def task_from_model(model: str) -> Task | None:
    """The task a model name implies (``yolo11s-seg.pt`` -> segment), or None when unknown."""
    stem = model.rsplit("/", 1)[-1].lower()
    stem = re.sub(r"\.(pt|ya?ml)$", "", stem)
    for suffix, task in _SUFFIX_TASK.items():
        if re.search(rf"-{suffix}(?:-p[26])?$", stem):
            return task
    if _YOLO_NAME.match(stem) and not re.search(r"-(?:cls|sem|depth)\b", stem):
        return "detect"
    return None


def resolve_task(
    explicit: object,
    model: str | None,
    dataset_task: Task,
    model_task: Task | None = None,
) -> Task:
    """The task the job trains: explicit ``task:``, else the model's, else the dataset's.

    ``model_task`` is the task of a model whose name says nothing (an earlier job's best.pt),
    when the caller knows it.
    """
    if is_task(explicit):
        return explicit
    named = task_from_model(model) if model else None
    return named or model_task or dataset_task


def default_model(task: Task) -> str:
    return DEFAULT_MODELS[task]


def architecture_for(model: str) -> str:
    """The architecture yaml a pretrained weight is built from (``yolo11n-seg.pt`` ->
    ``yolo11n-seg.yaml``): what local mode trains when the weights are not on the machine."""
    return re.sub(r"\.pt$", ".yaml", model)


__all__ = [
    "DEFAULT_MODELS",
    "TASKS",
    "TASK_SUFFIX",
    "Task",
    "architecture_for",
    "default_model",
    "is_task",
    "requested_in_training_yaml",
    "resolve_task",
    "task_from_model",
]


def requested_in_training_yaml(text: bytes | str | None) -> tuple[object, str | None]:
    """(``task:``, ``model:``) as training.yaml sets them, for the validator's task choice.

    Bounded and safe: anything unreadable gives (None, None); training.yaml's own parser
    reports the problem.
    """
    if text is None:
        return None, None
    # The one safe loader (no aliases, bounded size and depth), as for training.yaml itself.
    loaded = safe_yaml.load(text, TRAINING_YAML, 64 * 1024)
    data = loaded.data if loaded.ok else None
    if not isinstance(data, dict):
        return None, None
    model = data.get("model")
    return data.get("task"), model if isinstance(model, str) else None
