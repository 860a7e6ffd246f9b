"""The model registry: every Completed job becomes a version in its dataset's SageMaker
model package group ``<prefix>-<dataset slug>`` (created when missing), pending approval.

Idempotent per job: a package carries its job name in its description, so a redelivered
event (or a retry after a failed email) finds it and registers nothing new; CreateModelPackage
also gets a ClientToken derived from the job name. The group's newest other package is the
previous model of the dataset, which the email compares against.

Throttling is retried here (botocore's own retries come first); a call that still fails
(throttled or refused) is reported in the email and logged, never allowed to cost the user
their email. See docs/architecture.md, "Model registry".
"""

from __future__ import annotations

import time
import unicodedata
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from yolo_pipeline.aws.clients import RETRYABLE_CODES
from yolo_pipeline.aws.errors import error_code, error_message
from yolo_pipeline.contract import (
    META_BEST_EPOCH,
    META_DATASET_URI,
    META_EPOCHS_RUN,
    META_JOB_NAME,
    META_TASK,
    META_TRAINED_AT,
)
from yolo_pipeline.names import slugify
from yolo_pipeline.training.metric_line import quality_names

GROUP_NAME_MAX = 63
ATTEMPTS = 3  # our tries of a throttled registry call, each after botocore's own retries
BACKOFF_SECONDS = 1.0
LIST_LIMIT = 200  # packages looked at for this job's (newest first): many retrains of a dataset
# CustomerMetadataProperties: keys <= 128, values <= 256 chars of \p{L}, \p{Z}, \p{N} and
# _.:/=+-@ (botocore's model, a Java regex counting UTF-16 units); anything else becomes "_".
# Python's \s is wider than \p{Z} (tabs, \x1c-\x1f), so categories are checked one by one.
_META_SYMBOLS = frozenset("_.:/=+-@")
_META_MAX_UNITS = 256
_TOKEN_NAMESPACE = uuid.UUID("6f1b3a52-3d7e-4f9e-9a51-1c7d0e5b9a11")
APPROVE_COMMAND = (
    "aws sagemaker update-model-package --model-package-arn {arn} --model-approval-status Approved"
)
# The per-class and headline figures carried as metadata (names of metric_line.METRIC_NAMES).
# The quality figures of every task (box; mask for segment; pose for pose; top-1/top-5, mIoU,
# delta1 and the depth errors for the others): those present
# are stored, so the next model of the dataset can be compared on its task's headline.
METADATA_METRICS = (
    *(
        f"val:{kind}{name}"
        for kind in ("", "mask_", "pose_")
        for name in ("mAP50-95", "mAP50", "precision", "recall")
    ),
    *(metric for task in ("classify", "semantic", "depth") for _, metric in quality_names(task)),
)
# What the inference server takes (yolo_pipeline.serving.request; roles never import each other).
SERVED_CONTENT_TYPES = ("image/jpeg", "image/png", "application/x-image", "application/json")
_TASKS = {
    "detect": "OBJECT_DETECTION",
    "obb": "OBJECT_DETECTION",
    "segment": "IMAGE_SEGMENTATION",
    "semantic": "IMAGE_SEGMENTATION",
    "classify": "IMAGE_CLASSIFICATION",
}


@dataclass(frozen=True)
class RegisteredModel:
    arn: str
    group: str
    version: int | None
    created: datetime | None
    approval: str
    job_name: str
    trained_at: str = ""
    metrics: dict[str, float] = field(default_factory=dict)
    task: str = ""  # the task it was trained for (yolo:task); "" for an unknown one

    @property
    def approve_command(self) -> str:
        return APPROVE_COMMAND.format(arn=self.arn)


@dataclass(frozen=True)
class RegistryOutcome:
    group: str
    package: RegisteredModel | None = None
    previous: RegisteredModel | None = None
    created_now: bool = False
    error: str = ""  # why the model is not registered, for the email


def group_name(prefix: str, dataset_name: str) -> str:
    """``<prefix>-<dataset slug>`` within the 63 characters a group name may have."""
    return f"{prefix}-{slugify(dataset_name, GROUP_NAME_MAX - len(prefix) - 1)}"


def package_description(job_name: str) -> str:
    return f"Model of training job {job_name} (yolo-on-upload)"


def client_token(job_name: str) -> str:
    """36 characters of ``[a-zA-Z0-9-]``, the same for every delivery of one job."""
    return str(uuid.uuid5(_TOKEN_NAMESPACE, job_name))


def _meta_char(ch: str) -> str:
    return ch if ch in _META_SYMBOLS or unicodedata.category(ch)[0] in "LZN" else "_"


def _meta_value(value: str) -> str:
    """``value`` as the metadata pattern allows, within 256 UTF-16 units (AWS's count)."""
    out, units = [], 0
    for ch in value:
        units += 2 if ord(ch) > 0xFFFF else 1
        if units > _META_MAX_UNITS:
            break
        out.append(_meta_char(ch))
    return "".join(out) or "-"


def metadata_properties(
    *,
    job_name: str,
    dataset_uri: str,
    task: str,
    metrics: Mapping[str, float],
    best_epoch: int | None,
    epochs_run: int | None,
    trained_at: str,
) -> dict[str, str]:
    props = {
        META_JOB_NAME: job_name,
        META_DATASET_URI: dataset_uri,
        META_TASK: task or "detect",
        META_TRAINED_AT: trained_at,
    }
    if best_epoch:
        props[META_BEST_EPOCH] = str(best_epoch)
    if epochs_run:
        props[META_EPOCHS_RUN] = str(epochs_run)
    for name in METADATA_METRICS:
        if name in metrics:
            props[name] = f"{metrics[name]:.6g}"
    return {k: _meta_value(v) for k, v in props.items() if v}


def create_package_request(
    *,
    group: str,
    job_name: str,
    model_uri: str,
    image_uri: str,
    metadata: Mapping[str, str],
    task: str,
    inference_image_uri: str = "",
) -> dict[str, Any]:
    """The CreateModelPackage request: a versioned package whose source is the model
    archive (InferenceSpecification's ModelDataUrl), waiting for a person to approve it.

    The container is the inference image when the stack has one (so ``create-model`` from
    the package ARN serves as is); ``image_uri`` (the training image) otherwise. The content
    types are the inference server's; the task is in the metadata (``yolo:task``)."""
    container: dict[str, Any] = {"ModelDataUrl": model_uri, "Framework": "PYTORCH"}
    if inference_image_uri or image_uri:
        container["Image"] = inference_image_uri or image_uri
    request: dict[str, Any] = {
        "ModelPackageGroupName": group,
        "ModelPackageDescription": package_description(job_name),
        "ModelPackageRegistrationType": "Registered",
        "ModelApprovalStatus": "PendingManualApproval",
        "InferenceSpecification": {
            "Containers": [container],
            "SupportedContentTypes": list(SERVED_CONTENT_TYPES),
            "SupportedResponseMIMETypes": ["application/json"],
        },
        "CustomerMetadataProperties": dict(metadata),
        "Domain": "COMPUTER_VISION",
        "Task": _TASKS.get(task, "OTHER"),
        "ClientToken": client_token(job_name),
    }
    return request


def call(
    operation: Callable[..., Any], sleep: Callable[[float], None] = time.sleep, **kwargs: Any
) -> Any:
    """``operation(**kwargs)``, retried with backoff while throttled or unavailable."""
    for attempt in range(1, ATTEMPTS + 1):
        try:
            return operation(**kwargs)
        except ClientError as exc:
            if error_code(exc) not in RETRYABLE_CODES or attempt == ATTEMPTS:
                raise
            sleep(BACKOFF_SECONDS * 2 ** (attempt - 1))
    raise AssertionError("unreachable")  # pragma: no cover


def registered_model(described: Mapping[str, Any]) -> RegisteredModel:
    """A DescribeModelPackage response -> :class:`RegisteredModel`."""
    meta = described.get("CustomerMetadataProperties") or {}
    metrics = {}
    for name in METADATA_METRICS:
        try:
            metrics[name] = float(meta[name])
        except (KeyError, TypeError, ValueError):
            continue
    version = described.get("ModelPackageVersion")
    created = described.get("CreationTime")
    return RegisteredModel(
        arn=str(described.get("ModelPackageArn") or ""),
        group=str(described.get("ModelPackageGroupName") or ""),
        version=version if isinstance(version, int) else None,
        created=created if isinstance(created, datetime) else None,
        approval=str(described.get("ModelApprovalStatus") or ""),
        job_name=str(meta.get(META_JOB_NAME) or ""),
        trained_at=str(meta.get(META_TRAINED_AT) or ""),
        task=str(meta.get(META_TASK) or ""),
        metrics=metrics,
    )


def list_packages(sagemaker: Any, group: str, sleep: Callable[[float], None]) -> list[Any]:
    """The group's package summaries, newest first (at most LIST_LIMIT)."""
    summaries: list[Any] = []
    kwargs: dict[str, Any] = {
        "ModelPackageGroupName": group,
        "SortBy": "CreationTime",
        "SortOrder": "Descending",
        "MaxResults": 100,
    }
    while len(summaries) < LIST_LIMIT:
        page = call(sagemaker.list_model_packages, sleep, **kwargs)
        summaries += page.get("ModelPackageSummaryList", [])
        if not page.get("NextToken"):
            break
        kwargs["NextToken"] = page["NextToken"]
    return summaries[:LIST_LIMIT]


def ensure_group(
    sagemaker: Any, group: str, dataset_uri: str, sleep: Callable[[float], None]
) -> None:
    try:
        call(sagemaker.describe_model_package_group, sleep, ModelPackageGroupName=group)
        return
    except ClientError as exc:
        if error_code(exc) != "ValidationException":  # SageMaker's "does not exist"
            raise
    try:
        call(
            sagemaker.create_model_package_group,
            sleep,
            ModelPackageGroupName=group,
            ModelPackageGroupDescription=f"YOLO models trained on {dataset_uri}"[:1024],
        )
    except ClientError as exc:  # a racing delivery created it first
        if "exist" not in str(exc).lower():
            raise


def _not_after(created: Any, reference: Any) -> bool:
    """Whether a package was registered before this job's (unknown times: assume so)."""
    if isinstance(created, datetime) and isinstance(reference, datetime):
        return created <= reference
    return True


def _describe(sagemaker: Any, arn: str, sleep: Callable[[float], None]) -> RegisteredModel:
    return registered_model(call(sagemaker.describe_model_package, sleep, ModelPackageName=arn))


def register_model(
    sagemaker: Any,
    *,
    group: str,
    job_name: str,
    request: Mapping[str, Any],
    dataset_uri: str,
    sleep: Callable[[float], None] = time.sleep,
) -> RegistryOutcome:
    """Register this job's model once; returns it, the previous model, or the error."""
    previous: RegisteredModel | None = None
    try:
        ensure_group(sagemaker, group, dataset_uri, sleep)
        summaries = list_packages(sagemaker, group, sleep)
        description = package_description(job_name)
        mine = [s for s in summaries if s.get("ModelPackageDescription") == description]
        mine_time = mine[-1].get("CreationTime") if mine else None
        older = [
            s
            for s in summaries
            if s.get("ModelPackageDescription") != description
            and _not_after(s.get("CreationTime"), mine_time)
        ]
        if older:
            previous = _describe(sagemaker, older[0]["ModelPackageArn"], sleep)
        if mine:
            package = _describe(sagemaker, mine[-1]["ModelPackageArn"], sleep)
            return RegistryOutcome(group, package, previous, created_now=False)
        created = call(sagemaker.create_model_package, sleep, **request)
        package = _describe(sagemaker, created["ModelPackageArn"], sleep)
        return RegistryOutcome(group, package, previous, created_now=True)
    except ClientError as exc:
        message = error_message(exc)
        return RegistryOutcome(group, None, previous, error=f"{error_code(exc)}: {message}")
    except BotoCoreError as exc:
        return RegistryOutcome(group, None, previous, error=f"{type(exc).__name__}: {exc}"[:300])
