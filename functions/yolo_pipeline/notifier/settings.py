"""The notifier's settings, parsed and validated once from env vars into a typed object."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

from yolo_pipeline.aws.env import get as env_get
from yolo_pipeline.aws.env import job_name_prefix


@dataclass(frozen=True)
class NotifierSettings:
    notification_topic_arn: str
    idempotency_table: str
    job_name_prefix: str
    inference_image_uri: str = ""  # named in registry packages; "" keeps the training image

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> NotifierSettings:
        env = os.environ if env is None else env
        return cls(
            notification_topic_arn=env_get(env, "NOTIFICATION_TOPIC_ARN"),
            idempotency_table=env_get(env, "IDEMPOTENCY_TABLE"),
            job_name_prefix=job_name_prefix(env),
            inference_image_uri=env.get("INFERENCE_IMAGE_URI", "").strip(),
        )
