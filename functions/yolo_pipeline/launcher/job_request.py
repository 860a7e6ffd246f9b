"""The exact CreateTrainingJob request for one dataset: a pure function, no AWS.

``build_training_job_request(...)`` returns the keyword arguments for
``sagemaker.create_training_job(**request)``. The launcher fills it from the stack's
settings; local mode prints it with the ``PLACEHOLDER_*`` values. Every field it writes
is checked against botocore's model (patterns, enums, limits) in the tests.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping
from typing import Any

from yolo_pipeline.contract import (
    CHANNEL_WEIGHTS,
    ENV_DATASET_DIGEST,
    TAG_DATA_YAML_ETAG,
    TAG_DATASET_NAME,
    TAG_DATASET_URI,
    TAG_PIPELINE,
    ZIP_SUFFIX,
)
from yolo_pipeline.training.config import SageMakerOptions
from yolo_pipeline.training.hyperparameters import encode_hyperparameters
from yolo_pipeline.training.metric_line import metric_definitions
from yolo_pipeline.training.tasks import Task, is_task

CHANNEL = "dataset"  # /opt/ml/input/data/dataset/ in the container
CHECKPOINT_LOCAL_PATH = "/opt/ml/checkpoints"
MAX_SECONDS = 28 * 24 * 3600  # SageMaker's cap on MaxRuntime/MaxWait
SPOT_WAIT_FACTOR = 2  # wait for spot capacity up to as long again as the job may run
PIPELINE_NAME = "yolo-on-upload"
TAG_DATA_YAML_VERSION = "yolo:data-yaml-version"
TAG_VALUE_MAX = 256
# The training image runs without internet (network isolation): never let Ultralytics
# try to reach the hub, fonts or weights; stream logs so CloudWatch sees each epoch.
ENVIRONMENT = {"YOLO_OFFLINE": "1", "PYTHONUNBUFFERED": "1"}

PLACEHOLDER_IMAGE_URI = "123456789012.dkr.ecr.us-east-1.amazonaws.com/yolo-training:latest"
PLACEHOLDER_ROLE_ARN = "arn:aws:iam::123456789012:role/yolo-on-upload-sagemaker"
PLACEHOLDER_OUTPUT_S3_URI = "s3://yolo-artifacts-123456789012/models/"
PLACEHOLDER_CHECKPOINT_S3_URI = "s3://yolo-artifacts-123456789012/checkpoints/"


def tag_value(text: str) -> str:
    """``text`` made acceptable as a SageMaker tag value.

    Allowed: letters, digits, spaces (any script) and ``_ . : / = + - @``, at most 256
    characters; anything else becomes ``_`` (a dataset folder may hold ``&`` or ``,``).
    """
    out = []
    for ch in text:
        ok = unicodedata.category(ch)[0] in "LNZ" or ch in "_.:/=+-@"
        out.append(ch if ok else "_")
    return "".join(out)[:TAG_VALUE_MAX]


def spot_wait_seconds(max_runtime_seconds: int) -> int:
    """MaxWaitTimeInSeconds: at least the runtime (SageMaker requires it), at most 28 days."""
    return max(max_runtime_seconds, min(max_runtime_seconds * SPOT_WAIT_FACTOR, MAX_SECONDS))


def _join(base: str, *parts: str) -> str:
    return base.rstrip("/") + "/" + "/".join(p.strip("/") for p in parts) + "/"


def _tags(
    pipeline_name: str, dataset_folder: str, etag: str, version: str | None
) -> list[dict[str, str]]:
    """The job's tags (contract.TAG_*), read back by the notifier and `status`."""
    tags = [
        {"Key": TAG_PIPELINE, "Value": tag_value(pipeline_name)},
        {"Key": TAG_DATASET_URI, "Value": tag_value(dataset_folder)},
    ]

    if etag:
        tags.append({"Key": TAG_DATA_YAML_ETAG, "Value": tag_value(etag)})
    if version:
        tags.append({"Key": TAG_DATA_YAML_VERSION, "Value": tag_value(version)})
    return tags


def with_dataset_name(request: dict[str, Any], name: str) -> dict[str, Any]:
    """``request`` with the ``yolo:dataset-name`` tag: the notifier names the dataset (and
    its model package group) as the launcher did, zip or nested folder alike."""
    tags = [*request["Tags"], {"Key": TAG_DATASET_NAME, "Value": tag_value(name)}]
    return {**request, "Tags": tags} if name else request


def build_training_job_request(  # noqa: PLR0913 (keyword-only: one per request field)
    *,
    job_name: str,
    dataset_uri: str,
    image_uri: str,
    role_arn: str,
    output_s3_uri: str,
    checkpoint_s3_uri: str,
    options: SageMakerOptions,
    train_args: Mapping[str, Any] | None = None,
    data_yaml_etag: str = "",
    data_yaml_version: str | None = None,
    pipeline_name: str = PIPELINE_NAME,
    weights_uri: str | None = None,
    dataset_digest: str = "",
) -> dict[str, Any]:
    """CreateTrainingJob kwargs for ``dataset_uri`` (the S3 folder holding data.yaml, or
    a dataset zip: S3Prefix with the exact key brings that one object into the channel).

    ``train_args``: the checked Ultralytics arguments (``model`` and ``task`` included), sent
    as strings (ValueError past SageMaker's limits). ``weights_uri``: the user's weights
    object, the ``weights`` channel. ``dataset_digest``: what the launcher validated
    (dataset/digest.py), which the container checks its channel against before training."""
    if not dataset_uri.startswith("s3://"):
        raise ValueError(f"dataset_uri must be an s3:// folder, got {dataset_uri!r}")
    is_zip = dataset_uri.lower().endswith(ZIP_SUFFIX)
    dataset_folder = dataset_uri if dataset_uri.endswith("/") or is_zip else dataset_uri + "/"
    runtime = min(options.max_runtime_seconds, MAX_SECONDS)
    tags = _tags(pipeline_name, dataset_folder, data_yaml_etag, data_yaml_version)
    stopping: dict[str, int] = {"MaxRuntimeInSeconds": runtime}
    request: dict[str, Any] = {
        "TrainingJobName": job_name,
        "RoleArn": role_arn,
        "AlgorithmSpecification": {
            "TrainingImage": image_uri,
            "TrainingInputMode": options.input_mode,
            "MetricDefinitions": metric_definitions(_task(train_args)),
            "EnableSageMakerMetricsTimeSeries": True,
        },
        "HyperParameters": encode_hyperparameters(dict(train_args or {})),
        "InputDataConfig": [
            {
                "ChannelName": CHANNEL,
                "DataSource": {
                    "S3DataSource": {
                        "S3DataType": "S3Prefix",
                        "S3Uri": dataset_folder,
                        "S3DataDistributionType": "FullyReplicated",
                    }
                },
                "InputMode": options.input_mode,
            }
        ],
        "OutputDataConfig": {"S3OutputPath": output_s3_uri},
        # One instance: Ultralytics has no multi-node training.
        "ResourceConfig": {
            "InstanceType": options.instance_type,
            "InstanceCount": 1,
            "VolumeSizeInGB": options.volume_size_gb,
        },
        "StoppingCondition": stopping,
        "EnableNetworkIsolation": True,
        "EnableManagedSpotTraining": options.spot,
        "Environment": _environment(dataset_digest),
        "Tags": tags,
    }
    if weights_uri:
        request["InputDataConfig"].append(_weights_channel(weights_uri))
    if options.spot:
        stopping["MaxWaitTimeInSeconds"] = spot_wait_seconds(runtime)
    # One sub-prefix per job, so a restarted spot job resumes only its own run; on demand too,
    # so a run the watchdog stops (or a user) keeps its best.pt and last.pt in the bucket.
    request["CheckpointConfig"] = {
        "S3Uri": _join(checkpoint_s3_uri, job_name),
        "LocalPath": CHECKPOINT_LOCAL_PATH,
    }
    return request


def _environment(dataset_digest: str) -> dict[str, str]:
    if not dataset_digest:
        return dict(ENVIRONMENT)
    return {**ENVIRONMENT, ENV_DATASET_DIGEST: dataset_digest}


def _task(train_args: Mapping[str, Any] | None) -> Task:
    task = (train_args or {}).get("task")
    return task if is_task(task) else "detect"


def _weights_channel(uri: str) -> dict[str, Any]:
    """One object as a channel: an S3Prefix of its full key (the container takes the file of
    exactly that name, so a neighbour sharing the prefix is never used). File mode: a
    checkpoint is read once, whole."""
    if not uri.startswith("s3://") or uri.endswith("/"):
        raise ValueError(f"weights_uri must be one s3:// object, got {uri!r}")
    return {
        "ChannelName": CHANNEL_WEIGHTS,
        "DataSource": {
            "S3DataSource": {
                "S3DataType": "S3Prefix",
                "S3Uri": uri,
                "S3DataDistributionType": "FullyReplicated",
            }
        },
        "InputMode": "File",
    }
