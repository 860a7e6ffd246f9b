"""Shared setup for the launcher integration tests: moto resources, env, a call spy, and
the launcher's queue (LaunchQueue) driven by hand with a clock the tests move."""

from __future__ import annotations

import copy
import importlib
import json
import time
from collections.abc import Callable
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
QUEUE = "yolo-launch"

# The settle rule as the settling tests run it: 60 s quiet, 1 h at most.
SETTLE_SECONDS = 60
MAX_SETTLE_SECONDS = 3600

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
    # Today's flow on a settled folder; the settle rule's own tests (test_launcher_settle.py)
    # turn the wait on with a moved clock.
    "SETTLE_SECONDS": "0",
}


@dataclass
class LauncherWorld:
    """The handler module, the CreateTrainingJob requests it made, SNS read-back, and
    LaunchQueue (the requests the launcher sent to it are checked and kept in ``sent``)."""

    module: ModuleType
    queue_url: str = ""
    requests: list[dict[str, Any]] = field(default_factory=list)
    sent: list[dict[str, Any]] = field(default_factory=list)

    def invoke(self, event: dict[str, Any], context: Any) -> dict[str, Any]:
        result: dict[str, Any] = self.module.lambda_handler(copy.deepcopy(event), context)
        return result

    def enqueue(self, event: dict[str, Any]) -> None:
        """What the EventBridge rule does with an S3 event: one message on LaunchQueue."""
        import boto3

        # Its own client, so ``sent`` keeps only what the launcher sent.
        sqs = boto3.client("sqs", region_name=REGION)
        sqs.send_message(QueueUrl=self.queue_url, MessageBody=json.dumps(event))

    def deliver(self, context: Any, copies: int = 1) -> tuple[int, list[str]]:
        """One poll of the event source mapping: the visible messages (each ``copies``
        times, as at-least-once delivery may) go to the handler in one batch; successes
        are deleted, failures stay for redelivery. Returns (records, failed message ids)."""
        from yolo_pipeline.aws import clients as aws_clients

        sqs = aws_clients.client("sqs")
        messages = sqs.receive_message(
            QueueUrl=self.queue_url,
            MaxNumberOfMessages=10,
            MessageAttributeNames=["All"],
            AttributeNames=["All"],
        ).get("Messages", [])
        if not messages:
            return 0, []
        from aws_lambda_powertools.utilities.batch.exceptions import BatchProcessingError

        arn = f"arn:aws:sqs:{REGION}:{ACCOUNT}:{QUEUE}"
        try:
            response = self.invoke(sqs_event(messages * copies, arn), context)
            failed = [f["itemIdentifier"] for f in response["batchItemFailures"]]
        except BatchProcessingError:  # every record failed: Lambda retries the whole batch
            failed = [m["MessageId"] for m in messages]
        for m in messages:
            if m["MessageId"] not in failed:
                sqs.delete_message(QueueUrl=self.queue_url, ReceiptHandle=m["ReceiptHandle"])
        return len(messages) * copies, failed

    def run_queue(self, context: Any, clock: Clock, *, step: float = 1.0, until: float) -> int:
        """Deliver whatever is due, moving ``clock`` by ``step`` each round, for ``until``
        seconds or until the queue is empty. Returns the number of records handled."""
        handled, waited = 0, 0.0
        while waited <= until:
            count, _failed = self.deliver(context)
            handled += count
            if count == 0 and self.queue_depth() == 0:
                break
            clock.advance(step)
            waited += step
        return handled

    def queue_depth(self) -> int:
        """Messages on LaunchQueue: visible, delayed and in flight."""
        from yolo_pipeline.aws import clients as aws_clients

        attributes = aws_clients.client("sqs").get_queue_attributes(
            QueueUrl=self.queue_url, AttributeNames=["All"]
        )["Attributes"]
        return sum(
            int(attributes[name])
            for name in (
                "ApproximateNumberOfMessages",
                "ApproximateNumberOfMessagesDelayed",
                "ApproximateNumberOfMessagesNotVisible",
            )
        )

    def emails(self) -> list[dict[str, Any]]:
        from moto.sns.models import sns_backends

        sent = sns_backends[ACCOUNT][REGION].topics[TOPIC_ARN].sent_notifications
        return [
            {"message": message, "subject": subject, "attributes": attributes}
            for _id, message, subject, attributes, _group in sent
        ]


def upload_event(key: str, sequencer: str = "0062E99A88DC407460", **obj: Any) -> dict[str, Any]:
    """events/dataset_uploaded.json for another key (URL-encoded as S3 sends it), with the
    ETag and size of the object S3 holds under ``key`` when there is one (as S3 would)."""
    from urllib.parse import quote_plus

    from botocore.exceptions import ClientError

    from yolo_pipeline.aws import clients as aws_clients

    event = load_event("dataset_uploaded")
    event["detail"]["bucket"]["name"] = BUCKET
    try:
        head = aws_clients.client("s3").head_object(Bucket=BUCKET, Key=key)
        event["detail"]["object"].update(
            {"etag": head["ETag"].strip('"'), "size": head["ContentLength"]}
        )
    except ClientError:
        pass  # not written (or not in moto): the sample's values
    event["detail"]["object"].update(
        {"key": quote_plus(key, safe="/"), "sequencer": sequencer, **obj}
    )
    return event


class Clock:
    """Time as the launcher and moto see it: real time plus an offset the test moves.

    moto stamps S3 LastModified and runs SQS DelaySeconds on ``moto.core.utils.utcnow``;
    shifting it with the launcher's clock lets a test wait a minute without sleeping.
    """

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        import datetime as dt

        import moto.core.utils
        import moto.s3.models

        self.offset = 0.0
        real = moto.core.utils.utcnow

        def shifted() -> dt.datetime:
            return real() + dt.timedelta(seconds=self.offset)

        monkeypatch.setattr(moto.core.utils, "utcnow", shifted)
        monkeypatch.setattr(moto.s3.models, "utcnow", shifted)

    def __call__(self) -> float:
        return time.time() + self.offset

    def advance(self, seconds: float) -> None:
        self.offset += seconds


def moto_multipart_times(clock: Clock) -> None:
    """moto lists every multipart upload as initiated in 2010 (a fixed value), which would
    make each one look abandoned: stamp them with the clock's time of creation instead."""
    import datetime as dt

    from yolo_pipeline.aws import clients as aws_clients

    started: dict[str, dt.datetime] = {}

    def created(parsed: dict[str, Any], **_: Any) -> None:
        started[parsed.get("UploadId", "")] = dt.datetime.fromtimestamp(clock(), dt.UTC)

    def listed(parsed: dict[str, Any], **_: Any) -> None:
        for upload in parsed.get("Uploads", []):
            upload["Initiated"] = started.get(upload["UploadId"], upload["Initiated"])

    events = aws_clients.client("s3").meta.events
    events.register("after-call.s3.CreateMultipartUpload", created)
    events.register("after-call.s3.ListMultipartUploads", listed)


def powertools_time(monkeypatch: pytest.MonkeyPatch, now: Callable[[], float]) -> None:
    """Make Powertools' idempotency (the launch record and the notice markers) read
    ``now`` instead of the wall clock, so a test can jump past a marker's window."""
    import datetime as real_dt
    import types

    from aws_lambda_powertools.utilities.idempotency import base
    from aws_lambda_powertools.utilities.idempotency.persistence import (
        base as persistence_base,
    )
    from aws_lambda_powertools.utilities.idempotency.persistence import datarecord, dynamodb

    class _Datetime(real_dt.datetime):
        @classmethod
        def now(cls, tz: real_dt.tzinfo | None = None) -> _Datetime:
            return cls.fromtimestamp(now(), tz)

    shim = types.ModuleType("datetime")
    shim.__dict__.update(real_dt.__dict__)
    shim.datetime = _Datetime  # type: ignore[attr-defined]
    for module in (base, persistence_base, datarecord, dynamodb):
        monkeypatch.setattr(module, "dt", shim)


def sqs_event(messages: list[dict[str, Any]], queue_arn: str) -> dict[str, Any]:
    """ReceiveMessage output in the shape Lambda's SQS event source mapping delivers."""
    return {
        "Records": [
            {
                "messageId": m["MessageId"],
                "receiptHandle": m["ReceiptHandle"],
                "body": m["Body"],
                "attributes": m.get("Attributes", {}),
                "messageAttributes": {
                    name: {
                        "stringValue": value.get("StringValue"),
                        "binaryValue": None,
                        "stringListValues": [],
                        "binaryListValues": [],
                        "dataType": value["DataType"],
                    }
                    for name, value in (m.get("MessageAttributes") or {}).items()
                },
                "md5OfBody": m["MD5OfBody"],
                "eventSource": "aws:sqs",
                "eventSourceARN": queue_arn,
                "awsRegion": REGION,
            }
            for m in messages
        ]
    }


def make_launcher_world(
    monkeypatch: pytest.MonkeyPatch, env: dict[str, str] | None = None
) -> LauncherWorld:
    """Bucket, topic, idempotency table and LaunchQueue in moto, and the launcher
    cold-started on them (``env`` overrides LAUNCHER_ENV)."""
    from yolo_pipeline.aws import clients as aws_clients

    queue_url = aws_clients.client("sqs").create_queue(QueueName=QUEUE)["QueueUrl"]
    for name, value in {**LAUNCHER_ENV, "LAUNCH_QUEUE_URL": queue_url, **(env or {})}.items():
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
    world = LauncherWorld(module, queue_url=queue_url)

    def spy(params: dict[str, Any], **_: Any) -> None:
        # moto accepts duplicate names and malformed requests: count and check every call.
        validate_request("sagemaker", "CreateTrainingJob", params)
        world.requests.append(json.loads(json.dumps(params)))

    aws_clients.client("sagemaker").meta.events.register(
        "provide-client-params.sagemaker.CreateTrainingJob", spy
    )

    def sent(params: dict[str, Any], **_: Any) -> None:
        validate_request("sqs", "SendMessage", params)
        world.sent.append(json.loads(json.dumps(params)))

    aws_clients.client("sqs").meta.events.register("provide-client-params.sqs.SendMessage", sent)
    return world
