"""The launcher's settings, parsed and validated once from env vars into a typed object."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

from yolo_pipeline.aws.env import SettingsError, boolean, integer, job_name_prefix, s3_uri
from yolo_pipeline.aws.env import get as env_get
from yolo_pipeline.training.config import (
    DEFAULT_ALLOWED_INSTANCE_TYPES,
    DEFAULT_INSTANCE_TYPE,
    SageMakerDefaults,
)

DEFAULT_SETTLE_SECONDS = 60
DEFAULT_MAX_SETTLE_SECONDS = 6 * 3600


@dataclass(frozen=True)
class LauncherSettings:
    training_image_uri: str
    sagemaker_role_arn: str
    notification_topic_arn: str
    idempotency_table: str
    job_name_prefix: str
    output_s3_uri: str
    checkpoint_s3_uri: str
    dataset_prefix: str = "datasets/"
    instance_type: str = DEFAULT_INSTANCE_TYPE
    allowed_instance_types: tuple[str, ...] = DEFAULT_ALLOWED_INSTANCE_TYPES
    use_spot: bool = True
    max_runtime_seconds: int = 24 * 3600
    volume_size_gb: int = 50
    input_mode: str = "File"
    pipeline_name: str = "yolo-on-upload"  # tagged on every job (env PIPELINE_NAME)
    # The stack's own ECR repository: images in it are checked before a job (image_guard).
    training_image_repository_uri: str = ""
    # The settle rule (launcher/settle.py): the queue that deferred checks go back to.
    launch_queue_url: str = ""
    settle_seconds: int = DEFAULT_SETTLE_SECONDS
    max_settle_seconds: int = DEFAULT_MAX_SETTLE_SECONDS
    weights_s3_uri: str = ""  # users' own .pt files (env WEIGHTS_S3_URI); "" = none
    uploads_table: str = ""  # every upload's verdict for the CLI (env UPLOADS_TABLE); "" = none

    @property
    def sagemaker_defaults(self) -> SageMakerDefaults:
        return SageMakerDefaults(
            self.instance_type,
            self.allowed_instance_types,
            self.use_spot,
            self.max_runtime_seconds,
            self.volume_size_gb,
            self.input_mode,
        )

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> LauncherSettings:
        env = os.environ if env is None else env
        allowed = tuple(
            t.strip()
            for t in env_get(
                env, "ALLOWED_INSTANCE_TYPES", ",".join(DEFAULT_ALLOWED_INSTANCE_TYPES)
            ).split(",")
            if t.strip()
        )
        instance_type = env_get(env, "INSTANCE_TYPE", DEFAULT_INSTANCE_TYPE)
        if instance_type not in allowed:
            raise SettingsError(
                f"INSTANCE_TYPE={instance_type} is not in ALLOWED_INSTANCE_TYPES "
                f"({', '.join(allowed)})"
            )
        input_mode = env_get(env, "INPUT_MODE", "File")
        if input_mode not in {"File", "FastFile"}:
            raise SettingsError(f"INPUT_MODE={input_mode!r} must be File or FastFile")
        dataset_prefix = env_get(env, "DATASET_PREFIX", "datasets/").lstrip("/")
        settle_seconds = integer(env, "SETTLE_SECONDS", DEFAULT_SETTLE_SECONDS, 0, 24 * 3600)
        queue_url = env.get("LAUNCH_QUEUE_URL", "").strip()
        if settle_seconds and not queue_url:
            raise SettingsError(
                "environment variable LAUNCH_QUEUE_URL is required when SETTLE_SECONDS > 0 "
                "(deferred checks go back to that queue)"
            )
        return cls(
            training_image_uri=env_get(env, "TRAINING_IMAGE_URI"),
            sagemaker_role_arn=env_get(env, "SAGEMAKER_ROLE_ARN"),
            notification_topic_arn=env_get(env, "NOTIFICATION_TOPIC_ARN"),
            idempotency_table=env_get(env, "IDEMPOTENCY_TABLE"),
            job_name_prefix=job_name_prefix(env),
            output_s3_uri=s3_uri(env, "OUTPUT_S3_URI"),
            checkpoint_s3_uri=s3_uri(env, "CHECKPOINT_S3_URI"),
            dataset_prefix=dataset_prefix if dataset_prefix.endswith("/") else dataset_prefix + "/",
            instance_type=instance_type,
            allowed_instance_types=allowed,
            use_spot=boolean(env, "USE_SPOT", True),
            # SageMaker's own cap on MaxRuntimeInSeconds is 28 days.
            max_runtime_seconds=integer(env, "MAX_RUNTIME_SECONDS", 24 * 3600, 60, 28 * 24 * 3600),
            volume_size_gb=integer(env, "VOLUME_SIZE_GB", 50, 1, 16384),
            input_mode=input_mode,
            pipeline_name=env_get(env, "PIPELINE_NAME", "yolo-on-upload"),
            training_image_repository_uri=env_get(env, "TRAINING_IMAGE_REPOSITORY_URI", ""),
            launch_queue_url=queue_url,
            settle_seconds=settle_seconds,
            max_settle_seconds=integer(
                env, "MAX_SETTLE_SECONDS", DEFAULT_MAX_SETTLE_SECONDS, 0, 14 * 24 * 3600
            ),
            weights_s3_uri=s3_uri(env, "WEIGHTS_S3_URI") if env.get("WEIGHTS_S3_URI") else "",
            uploads_table=env.get("UPLOADS_TABLE", "").strip(),
        )
