"""Where the job's starting model comes from, checked before any job starts.

``choose_model`` turns training.yaml's ``model:`` (or the task's default) into the
``model`` and ``task`` hyperparameters and, when the weights are not baked into the image,
the exact S3 object the job gets as its ``weights`` channel (training.models):

- a baked weight or a built-in architecture: no channel;
- ``<name>.pt``: ``<WEIGHTS_S3_URI><name>``, which must exist (HeadObject);
- ``job:<name>``: that earlier job's ``model.tar.gz`` (DescribeTrainingJob); it must be a
  job of this pipeline that completed, and it fixes the task unless ``task:`` is set.

A model that cannot be used is a finding (the user is answered by email with the exact
``aws s3 cp`` that fixes it); an AWS failure other than "not found" raises, so the event is
retried.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from botocore.exceptions import ClientError

from yolo_pipeline.aws.errors import error_code
from yolo_pipeline.contract import TRAINING_YAML
from yolo_pipeline.findings import Finding, error
from yolo_pipeline.training.hyperparameters import decode_value
from yolo_pipeline.training.models import BAKED, JOB_PREFIX, read_model
from yolo_pipeline.training.tasks import (
    Task,
    default_model,
    is_task,
    resolve_task,
    task_from_model,
)


@dataclass(frozen=True)
class ModelChoice:
    model: str  # the ``model`` hyperparameter
    task: Task  # the ``task`` hyperparameter
    weights_uri: str | None = None  # the exact S3 object for the weights channel
    problems: list[Finding] = field(default_factory=list)


def _split(uri: str) -> tuple[str, str]:
    bucket, _, key = uri.removeprefix("s3://").partition("/")
    return bucket, key


def _refused(model: str, task: Task, message: str, hint: str) -> ModelChoice:
    return ModelChoice(model, task, None, [error(TRAINING_YAML, message, field="model", hint=hint)])


def _task_conflict(explicit: object, model: str, task: Task) -> list[Finding]:
    named = task_from_model(model)
    if is_task(explicit) and named and named != explicit:
        return [
            error(
                TRAINING_YAML,
                f"task: {explicit} does not match the model {model} (a {named} model)",
                field="task",
                hint=f"use a {explicit} model such as {default_model(task)}, or remove task:",
            )
        ]
    return []


def choose_model(
    train_args: Mapping[str, Any],
    dataset_task: Task,
    *,
    weights_s3_uri: str,
    job_name_prefix: str,
    s3: Any,
    sagemaker: Any,
) -> ModelChoice:
    """The model, task and weights channel for this job; ``problems`` when it cannot start."""
    explicit = train_args.get("task")
    value = str(train_args.get("model") or "").strip()
    if not value:
        task = resolve_task(explicit, None, dataset_task)
        return ModelChoice(default_model(task), task)
    ref = read_model(value)
    if ref.kind == "job":
        return _earlier_job(ref.name, explicit, dataset_task, job_name_prefix, sagemaker)
    task = resolve_task(explicit, value, dataset_task)
    if ref.problem:
        return _refused(value, task, ref.problem, ref.hint)
    conflict = _task_conflict(explicit, value, task)
    if conflict:
        return ModelChoice(value, task, None, conflict)
    if ref.kind in {"baked", "architecture"}:
        return ModelChoice(value, task)
    return _user_weights(value, task, weights_s3_uri, s3)


def _user_weights(name: str, task: Task, weights_s3_uri: str, s3: Any) -> ModelChoice:
    if not weights_s3_uri:
        return _refused(
            name,
            task,
            f"{name} is not baked into the training image, and this stack has no weights prefix",
            f"use a baked model ({', '.join(BAKED[:4])}, ...) or ask the stack owner to set "
            "WEIGHTS_S3_URI",
        )
    uri = weights_s3_uri + name
    bucket, key = _split(uri)
    try:
        s3.head_object(Bucket=bucket, Key=key)
    except ClientError as exc:
        code = error_code(exc)
        if code not in {"404", "NoSuchKey", "NotFound"}:
            raise  # permissions, throttling: not the user's problem, retry the event
        return _refused(
            name,
            task,
            f"{name} is neither baked into the training image nor in {weights_s3_uri}",
            f"upload it, then upload the dataset again (or use a baked model such as "
            f"{default_model(task)}):\n$ aws s3 cp {name} {uri}",
        )
    return ModelChoice(name, task, uri)


def _earlier_job(
    name: str, explicit: object, dataset_task: Task, prefix: str, sagemaker: Any
) -> ModelChoice:
    model = JOB_PREFIX + name
    fallback = resolve_task(explicit, None, dataset_task)
    if not name.startswith(prefix + "-"):
        return _refused(
            model,
            fallback,
            f"{name} is not a job of this pipeline (its jobs are named {prefix}-...)",
            "name a job from `yolo-pipeline status` or the training-started email",
        )
    try:
        job = sagemaker.describe_training_job(TrainingJobName=name)
    except ClientError as exc:
        code = error_code(exc)
        if code not in {"ValidationException", "ResourceNotFound"}:
            raise
        return _refused(model, fallback, f"there is no training job named {name}", "check the name")
    artefact = (job.get("ModelArtifacts") or {}).get("S3ModelArtifacts")
    if job.get("TrainingJobStatus") != "Completed" or not artefact:
        return _refused(
            model,
            fallback,
            f"job {name} is {job.get('TrainingJobStatus', 'unknown')}, not Completed: it has no "
            "best.pt to start from",
            "fine-tune from a job that completed",
        )
    earlier = decode_value(str((job.get("HyperParameters") or {}).get("task", "detect")))
    earlier_task: Task = earlier if is_task(earlier) else "detect"
    task = resolve_task(explicit, None, dataset_task, model_task=earlier_task)
    if is_task(explicit) and explicit != earlier_task:
        return _refused(
            model,
            task,
            f"job {name} trained a {earlier_task} model; task: {explicit} cannot start from it",
            f"remove task: or set task: {earlier_task}",
        )
    return ModelChoice(model, task, str(artefact))
