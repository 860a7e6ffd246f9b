"""The launcher and the validator against moto's server (a real endpoint, AWS_ENDPOINT_URL).

In-process ``mock_aws`` only patches botocore; obstore (the bulk label reads) is a Rust
client, so this is where its path is tested: every handler must work reached this way.
"""

from __future__ import annotations

from typing import Any

from tests.support.dataset_factory import detect_dataset, put_s3, with_changes
from tests.support.helpers import FakeLambdaContext
from tests.support.launcher_world import BUCKET, LauncherWorld, upload_event
from tests.support.zip_factory import zip_files
from yolo_pipeline.aws import clients as aws
from yolo_pipeline.dataset.storage.s3 import S3Storage
from yolo_pipeline.dataset.validation import validate_dataset

LABEL = "labels/train/train_00002.txt"


def _boto3_gets() -> list[str]:
    urls: list[str] = []
    aws.client("s3").meta.events.register(
        "before-send.s3.GetObject", lambda request, **_: urls.append(request.url)
    )
    return urls


def test_label_reads_go_through_obstore_with_the_same_verdict(
    moto_server: str, monkeypatch: Any
) -> None:
    files = with_changes(detect_dataset(n_train=40, n_val=10), **{LABEL: "0 0.5 0.5 0.1 1.9\n"})
    put_s3(files, "bucket", "datasets/shapes/")
    gets = _boto3_gets()
    fast = validate_dataset(S3Storage("bucket", "datasets/shapes/", client=aws.client("s3")))
    assert len(gets) == 1  # data.yaml only: the 50 labels came through obstore
    monkeypatch.setenv("YOLO_S3_READER", "boto3")
    plain = validate_dataset(S3Storage("bucket", "datasets/shapes/", client=aws.client("s3")))
    assert len(gets) == 1 + 1 + 50
    assert not fast.valid and [str(f) for f in fast.errors] == [str(f) for f in plain.errors]
    assert fast.stats == plain.stats
    assert any(f.file == LABEL and f.line == 1 for f in fast.errors)


def test_a_key_obstore_cannot_read_falls_back_to_boto3(moto_server: str) -> None:
    files = detect_dataset(n_train=4, n_val=2)
    put_s3(files, "bucket", "datasets/shapes/")
    storage = S3Storage("bucket", "datasets/shapes/", client=aws.client("s3"))
    got = dict(storage.map_read(["data.yaml", "labels/train/train_00000.txt"], lambda p, b: b))
    assert got["data.yaml"] == files["data.yaml"]
    assert storage._bulk is not None and storage._bulk.working
    import pytest

    from yolo_pipeline.dataset.storage.base import StorageError

    with pytest.raises(StorageError, match="does not exist"):
        list(storage.map_read(["labels/train/missing.txt"], lambda p, b: b))


def test_the_launcher_starts_a_folder_and_a_zip_job_against_the_server(
    server_launcher_world: LauncherWorld, lambda_context: FakeLambdaContext
) -> None:
    world = server_launcher_world
    files = detect_dataset(n_train=12, n_val=4)
    put_s3(files, BUCKET, "datasets/shapes/", create_bucket=False)
    s3 = aws.client("s3")
    s3.put_object(Bucket=BUCKET, Key="datasets/zipped.zip", Body=zip_files(files))

    folder = world.invoke(upload_event("datasets/shapes/data.yaml"), lambda_context)
    zipped = world.invoke(
        upload_event("datasets/zipped.zip", sequencer="0062E99A88DC407461"), lambda_context
    )

    assert folder["status"] == "started" and zipped["status"] == "started", world.emails()
    uris = [r["InputDataConfig"][0]["DataSource"]["S3DataSource"]["S3Uri"] for r in world.requests]
    assert uris == [f"s3://{BUCKET}/datasets/shapes/", f"s3://{BUCKET}/datasets/zipped.zip"]
    subjects = [e["subject"] for e in world.emails()]
    assert subjects == ["[yolo] Training started: shapes", "[yolo] Training started: zipped"]
    jobs = aws.client("sagemaker").list_training_jobs()["TrainingJobSummaries"]
    assert len(jobs) == 2


def test_the_notifier_sends_its_email_through_the_server(
    moto_server: str, monkeypatch: Any
) -> None:
    from botocore.stub import Stubber
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.sns import sns_backends

    from tests.support.helpers import load_event
    from tests.support.notifier_world import described_for

    arn = aws.client("sns").create_topic(Name="yolo-notifications")["TopicArn"]
    aws.client("dynamodb").create_table(
        TableName="yolo-idempotency",
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    for name, value in {
        "NOTIFICATION_TOPIC_ARN": arn,
        "IDEMPOTENCY_TABLE": "yolo-idempotency",
        "JOB_NAME_PREFIX": "yolo",
    }.items():
        monkeypatch.setenv(name, value)
    event = load_event("training_completed")
    import importlib

    import notify_status

    lambda_handler = importlib.reload(notify_status).lambda_handler  # a cold start here

    # moto's DescribeTrainingJob lacks the fields the email reads: stubbed, as elsewhere.
    with Stubber(aws.client("sagemaker")) as stub:
        stub.add_response("describe_training_job", described_for("training_completed"))
        result = lambda_handler(event, FakeLambdaContext())
    assert result["action"] == "sent"
    sent = sns_backends[DEFAULT_ACCOUNT_ID]["us-east-1"].topics[arn].sent_notifications
    assert [subject for _, _, subject, _, _ in sent] == ["[yolo] Completed: pets mAP50-95 0.612"]
