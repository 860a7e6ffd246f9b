"""The deployer's settings, parsed and validated once from env vars into a typed object."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass

from yolo_pipeline.aws.env import SettingsError, boolean, integer, job_name_prefix
from yolo_pipeline.aws.env import get as env_get

# Serverless Inference: 1,024 to 6,144 MB in steps of 1,024; at most 200 concurrent.
SERVERLESS_MEMORY_STEPS = (1024, 2048, 3072, 4096, 5120, 6144)
_INSTANCE_TYPE = re.compile(r"^ml\.[a-z0-9]+\.[a-z0-9]+$")


@dataclass(frozen=True)
class DeployerSettings:
    notification_topic_arn: str
    idempotency_table: str
    job_name_prefix: str
    inference_image_uri: str
    role_arn: str
    deploy_on_approval: bool = True
    serverless_memory_mb: int = 3072
    serverless_max_concurrency: int = 5
    instance_type: str = ""  # "" = serverless; else one real-time instance of this type

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> DeployerSettings:
        env = os.environ if env is None else env
        memory = integer(env, "SERVERLESS_MEMORY_MB", 3072, 1024, 6144)
        if memory not in SERVERLESS_MEMORY_STEPS:
            raise SettingsError(f"SERVERLESS_MEMORY_MB={memory} must be a multiple of 1024")
        instance_type = env.get("ENDPOINT_INSTANCE_TYPE", "").strip()
        if instance_type and not _INSTANCE_TYPE.match(instance_type):
            raise SettingsError(
                f"ENDPOINT_INSTANCE_TYPE={instance_type!r} is not an instance type such as "
                "ml.m5.large (leave it empty for serverless)"
            )
        return cls(
            notification_topic_arn=env_get(env, "NOTIFICATION_TOPIC_ARN"),
            idempotency_table=env_get(env, "IDEMPOTENCY_TABLE"),
            job_name_prefix=job_name_prefix(env),
            inference_image_uri=env_get(env, "INFERENCE_IMAGE_URI"),
            role_arn=env_get(env, "SAGEMAKER_ROLE_ARN"),
            deploy_on_approval=boolean(env, "DEPLOY_ON_APPROVAL", True),
            serverless_memory_mb=memory,
            serverless_max_concurrency=integer(env, "SERVERLESS_MAX_CONCURRENCY", 5, 1, 200),
            instance_type=instance_type,
        )
