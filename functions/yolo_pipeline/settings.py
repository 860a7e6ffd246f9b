"""Settings parsed and validated once from env vars (DESIGN.md §3) into typed objects.

A missing or malformed variable raises ``SettingsError`` at cold start, naming the
variable, instead of failing later inside a request.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass

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
JOB_NAME_PREFIX_PATTERN = re.compile(r"^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,19}$")


class SettingsError(ValueError):
    """An env var is missing or invalid."""


def _get(env: Mapping[str, str], name: str, default: str | None = None) -> str:
    value = env.get(name, "").strip()
    if value:
        return value
    if default is None:
        raise SettingsError(f"environment variable {name} is required but not set")
    return default


def _bool(env: Mapping[str, str], name: str, default: bool) -> bool:
    raw = _get(env, name, "true" if default else "false").lower()
    if raw in {"1", "true", "yes", "on"}:
        return True
    if raw in {"0", "false", "no", "off"}:
        return False
    raise SettingsError(f"environment variable {name}={raw!r} is not a boolean (true/false)")


def _int(env: Mapping[str, str], name: str, default: int, minimum: int, maximum: int) -> int:
    raw = _get(env, name, str(default))
    try:
        value = int(raw)
    except ValueError:
        raise SettingsError(f"environment variable {name}={raw!r} is not an integer") from None
    if not minimum <= value <= maximum:
        raise SettingsError(
            f"environment variable {name}={value} is outside [{minimum}, {maximum}]"
        )
    return value


def _s3_uri(env: Mapping[str, str], name: str) -> str:
    value = _get(env, name)
    if not value.startswith("s3://") or len(value) <= len("s3://"):
        raise SettingsError(f"environment variable {name}={value!r} must be an s3:// URI")
    return value if value.endswith("/") else value + "/"


def _prefix(env: Mapping[str, str]) -> str:
    prefix = _get(env, "JOB_NAME_PREFIX", "yolo")
    if not JOB_NAME_PREFIX_PATTERN.match(prefix):
        raise SettingsError(
            f"JOB_NAME_PREFIX={prefix!r} must be 1-20 letters, digits or inner hyphens"
        )
    return prefix


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

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> LauncherSettings:
        env = os.environ if env is None else env
        allowed = tuple(
            t.strip()
            for t in _get(
                env, "ALLOWED_INSTANCE_TYPES", ",".join(DEFAULT_ALLOWED_INSTANCE_TYPES)
            ).split(",")
            if t.strip()
        )
        instance_type = _get(env, "INSTANCE_TYPE", DEFAULT_INSTANCE_TYPE)
        if instance_type not in allowed:
            raise SettingsError(
                f"INSTANCE_TYPE={instance_type} is not in ALLOWED_INSTANCE_TYPES "
                f"({', '.join(allowed)})"
            )
        input_mode = _get(env, "INPUT_MODE", "File")
        if input_mode not in {"File", "FastFile"}:
            raise SettingsError(f"INPUT_MODE={input_mode!r} must be File or FastFile")
        dataset_prefix = _get(env, "DATASET_PREFIX", "datasets/").lstrip("/")
        return cls(
            training_image_uri=_get(env, "TRAINING_IMAGE_URI"),
            sagemaker_role_arn=_get(env, "SAGEMAKER_ROLE_ARN"),
            notification_topic_arn=_get(env, "NOTIFICATION_TOPIC_ARN"),
            idempotency_table=_get(env, "IDEMPOTENCY_TABLE"),
            job_name_prefix=_prefix(env),
            output_s3_uri=_s3_uri(env, "OUTPUT_S3_URI"),
            checkpoint_s3_uri=_s3_uri(env, "CHECKPOINT_S3_URI"),
            dataset_prefix=dataset_prefix if dataset_prefix.endswith("/") else dataset_prefix + "/",
            instance_type=instance_type,
            allowed_instance_types=allowed,
            use_spot=_bool(env, "USE_SPOT", True),
            # SageMaker's own cap on MaxRuntimeInSeconds is 28 days.
            max_runtime_seconds=_int(env, "MAX_RUNTIME_SECONDS", 24 * 3600, 60, 28 * 24 * 3600),
            volume_size_gb=_int(env, "VOLUME_SIZE_GB", 50, 1, 16384),
            input_mode=input_mode,
            pipeline_name=_get(env, "PIPELINE_NAME", "yolo-on-upload"),
        )


@dataclass(frozen=True)
class NotifierSettings:
    notification_topic_arn: str
    idempotency_table: str
    job_name_prefix: str

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> NotifierSettings:
        env = os.environ if env is None else env
        return cls(
            notification_topic_arn=_get(env, "NOTIFICATION_TOPIC_ARN"),
            idempotency_table=_get(env, "IDEMPOTENCY_TABLE"),
            job_name_prefix=_prefix(env),
        )
