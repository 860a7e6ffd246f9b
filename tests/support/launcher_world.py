"""Shared setup for the launcher integration tests: moto resources, env, a call spy."""

from __future__ import annotations

import copy
import importlib
import json
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any

import pytest

from tests.support.botocore_model import validate_request
from tests.support.helpers import load_event

BUCKET = "yolo-datasets-123456789012"
TOPIC = "yolo-notifications"
TABLE = "yolo-idempotency"
ACCOUNT = "123456789012"
REGION = "us-east-1"
TOPIC_ARN = f"arn:aws:sns:{REGION}:{ACCOUNT}:{TOPIC}"

LAUNCHER_ENV = {
    "TRAINING_IMAGE_URI": f"{ACCOUNT}.dkr.ecr.{REGION}.amazonaws.com/yolo-training:latest",
    "SAGEMAKER_ROLE_ARN": f"arn:aws:iam::{ACCOUNT}:role/yolo-on-upload-sagemaker",
    "NOTIFICATION_TOPIC_ARN": TOPIC_ARN,
    "IDEMPOTENCY_TABLE": TABLE,
    "JOB_NAME_PREFIX": "yolo",
    "OUTPUT_S3_URI": "s3://yolo-artifacts-123456789012/models/",
    "CHECKPOINT_S3_URI": "s3://yolo-artifacts-123456789012/checkpoints/",
    "WEIGHTS_S3_URI": f"s3://{BUCKET}/weights/",
    "DATASET_PREFIX": "datasets/",
}


@dataclass
class LauncherWorld:
    """The handler module, the CreateTrainingJob requests it made, and SNS read-back."""

    module: ModuleType
    requests: list[dict[str, Any]] = field(default_factory=list)

    def invoke(self, event: dict[str, Any], context: Any) -> dict[str, Any]:
        result: dict[str, Any] = self.module.lambda_handler(copy.deepcopy(event), context)
        return result

    def emails(self) -> list[dict[str, Any]]:
        from moto.sns.models import sns_backends

        sent = sns_backends[ACCOUNT][REGION].topics[TOPIC_ARN].sent_notifications
        return [
            {"message": message, "subject": subject, "attributes": attributes}
            for _id, message, subject, attributes, _group in sent
        ]


def upload_event(key: str, sequencer: str = "0062E99A88DC407460", **obj: Any) -> dict[str, Any]:
    """events/dataset_uploaded.json for another key (URL-encoded as S3 sends it)."""
    from urllib.parse import quote_plus

    event = load_event("dataset_uploaded")
    event["detail"]["bucket"]["name"] = BUCKET
    event["detail"]["object"].update(
        {"key": quote_plus(key, safe="/"), "sequencer": sequencer, **obj}
    )
    return event


def make_launcher_world(monkeypatch: pytest.MonkeyPatch) -> LauncherWorld:
    """Bucket, topic and idempotency table in moto, and the launcher cold-started on them."""
    from yolo_pipeline.aws import clients as aws_clients

    for name, value in LAUNCHER_ENV.items():
        monkeypatch.setenv(name, value)
    aws_clients.client("s3").create_bucket(Bucket=BUCKET)
    aws_clients.client("sns").create_topic(Name=TOPIC)
    aws_clients.client("dynamodb").create_table(
        TableName=TABLE,
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    import start_training

    module = importlib.reload(start_training)  # cold start: settings from this env
    world = LauncherWorld(module)

    def spy(params: dict[str, Any], **_: Any) -> None:
        # moto accepts duplicate names and malformed requests: count and check every call.
        validate_request("sagemaker", "CreateTrainingJob", params)
        world.requests.append(json.loads(json.dumps(params)))

    aws_clients.client("sagemaker").meta.events.register(
        "provide-client-params.sagemaker.CreateTrainingJob", spy
    )
    return world
