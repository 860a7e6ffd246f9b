"""The launcher's exact AWS error paths, with botocore's Stubber (and a flaky transport)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from botocore.awsrequest import AWSResponse
from botocore.exceptions import ClientError
from botocore.stub import Stubber

from tests.support.dataset_factory import detect_dataset, put_s3
from tests.support.helpers import FakeLambdaContext
from tests.support.launcher_world import (
    BUCKET,
    TABLE,
    LauncherWorld,
    upload_event,
)
from yolo_pipeline.aws import clients as aws
from yolo_pipeline.launcher.check import DatasetUnreadableError

ARN = "arn:aws:sagemaker:us-east-1:123456789012:training-job/x"


@pytest.fixture
def sagemaker_stub(launcher_world: LauncherWorld) -> Iterator[Stubber]:
    put_s3(detect_dataset(), BUCKET, "datasets/shapes/", create_bucket=False)
    with Stubber(aws.client("sagemaker")) as stub:
        yield stub


def _event() -> dict[str, Any]:
    return upload_event("datasets/shapes/data.yaml")


def test_quota_email_names_the_quota_then_raises_for_redrive(
    launcher_world: LauncherWorld, sagemaker_stub: Stubber, lambda_context: FakeLambdaContext
) -> None:
    message = (
        "The account-level service limit 'ml.g4dn.xlarge for spot training job usage' is "
        "0 Instances, with current utilization of 0 Instances and a request delta of 1 "
        "Instances. Please use AWS Service Quotas to request an increase for this quota."
    )
    sagemaker_stub.add_client_error(
        "create_training_job", "ResourceLimitExceeded", message, http_status_code=400
    )
    with pytest.raises(ClientError, match="ResourceLimitExceeded"):
        launcher_world.invoke(_event(), lambda_context)

    (email,) = launcher_world.emails()
    assert email["subject"] == "[yolo] Quota reached: shapes"
    body = email["message"]
    assert '"ml.g4dn.xlarge for spot training job usage" in us-east-1' in body
    assert "servicequotas/home/services/sagemaker/quotas" in body
    assert "re-drive" in body and "(not created)" in body

    # The redriven event (quota raised meanwhile) runs again: the failure was not stored.
    sagemaker_stub.add_response("create_training_job", {"TrainingJobArn": ARN})
    assert launcher_world.invoke(_event(), lambda_context)["status"] == "started"
    assert len(launcher_world.requests) == 2
    assert launcher_world.requests[0] == launcher_world.requests[1]  # same name, same job
    assert [e["attributes"]["kind"]["Value"] for e in launcher_world.emails()] == [
        "QuotaExceeded",
        "JobStarted",
    ]
    sagemaker_stub.assert_no_pending_responses()


def test_validation_exception_becomes_a_rejection_quoting_sagemaker(
    launcher_world: LauncherWorld, sagemaker_stub: Stubber, lambda_context: FakeLambdaContext
) -> None:
    message = "Instance type ml.g6.xlarge is not supported in this region."
    sagemaker_stub.add_client_error("create_training_job", "ValidationException", message)

    result = launcher_world.invoke(_event(), lambda_context)
    launcher_world.invoke(_event(), lambda_context)  # redelivery: answered from the store

    assert result["status"] == "refused"
    assert len(launcher_world.requests) == 1
    (email,) = launcher_world.emails()
    assert email["subject"] == "[yolo] Training request refused: shapes"
    assert "SageMaker said: Instance type ml.g6.xlarge" in email["message"]


def _forget_idempotency_records() -> None:
    """Drop Powertools' records (as expiry or a lost save would), keeping email markers."""
    dynamodb = aws.client("dynamodb")
    for item in dynamodb.scan(TableName=TABLE)["Items"]:
        if not item["id"]["S"].startswith(("started#", "quota#")):
            dynamodb.delete_item(TableName=TABLE, Key={"id": item["id"]})


def test_resource_in_use_after_the_start_email_sends_nothing(
    launcher_world: LauncherWorld, sagemaker_stub: Stubber, lambda_context: FakeLambdaContext
) -> None:
    sagemaker_stub.add_response("create_training_job", {"TrainingJobArn": ARN})
    assert launcher_world.invoke(_event(), lambda_context)["status"] == "started"
    _forget_idempotency_records()

    sagemaker_stub.add_client_error(
        "create_training_job", "ResourceInUse", "Training job names must be unique"
    )
    result = launcher_world.invoke(_event(), lambda_context)
    assert result["status"] == "already_started" and result["email_sent"] is False
    assert len(launcher_world.emails()) == 1
    sagemaker_stub.assert_no_pending_responses()


def test_a_start_email_lost_after_create_is_sent_by_the_retry(
    launcher_world: LauncherWorld, sagemaker_stub: Stubber, lambda_context: FakeLambdaContext
) -> None:
    # The job is created, then SNS fails: the event is retried and meets ResourceInUse.
    sagemaker_stub.add_response("create_training_job", {"TrainingJobArn": ARN})
    with Stubber(aws.client("sns")) as sns_stub:
        sns_stub.add_client_error("publish", "InternalError", "SNS is down", 500)
        with pytest.raises(ClientError, match="SNS is down"):
            launcher_world.invoke(_event(), lambda_context)
    assert launcher_world.emails() == []

    sagemaker_stub.add_client_error(
        "create_training_job", "ResourceInUse", "Training job names must be unique"
    )
    result = launcher_world.invoke(_event(), lambda_context)
    launcher_world.invoke(_event(), lambda_context)  # redelivery: answered from the store

    assert result["status"] == "already_started" and result["email_sent"] is True
    (email,) = launcher_world.emails()
    assert email["attributes"]["kind"]["Value"] == "JobStarted"
    assert result["job_name"] in email["message"]
    assert len(launcher_world.requests) == 2
    sagemaker_stub.assert_no_pending_responses()


def test_throttling_past_retries_raises_without_email_and_retry_succeeds(
    launcher_world: LauncherWorld, sagemaker_stub: Stubber, lambda_context: FakeLambdaContext
) -> None:
    sagemaker_stub.add_client_error(
        "create_training_job", "ThrottlingException", "Rate exceeded", http_status_code=400
    )
    with pytest.raises(ClientError, match="ThrottlingException"):
        launcher_world.invoke(_event(), lambda_context)
    assert launcher_world.emails() == []

    sagemaker_stub.add_response("create_training_job", {"TrainingJobArn": ARN})
    assert launcher_world.invoke(_event(), lambda_context)["status"] == "started"
    assert len(launcher_world.emails()) == 1


def test_throttling_is_retried_by_botocore(
    launcher_world: LauncherWorld, lambda_context: FakeLambdaContext
) -> None:
    put_s3(detect_dataset(), BUCKET, "datasets/shapes/", create_bucket=False)
    client = aws.client("sagemaker")
    assert client.meta.config.retries["mode"] == "adaptive"
    assert client.meta.config.retries["total_max_attempts"] >= 5
    sends: list[int] = []

    def flaky(request: Any, **_: Any) -> AWSResponse | None:
        # Two throttles on the wire, then moto answers: botocore must retry on its own.
        sends.append(1)
        if len(sends) <= 2:
            body = b'{"__type":"ThrottlingException","message":"Rate exceeded"}'
            return AWSResponse(request.url, 400, {"x-amzn-RequestId": "t"}, _Raw(body))
        return None

    client.meta.events.register_first("before-send.sagemaker.CreateTrainingJob", flaky)
    try:
        result = launcher_world.invoke(_event(), lambda_context)
    finally:
        client.meta.events.unregister("before-send.sagemaker.CreateTrainingJob", flaky)
    assert result["status"] == "started"
    assert len(sends) == 3
    assert len(launcher_world.requests) == 1  # one API call, three HTTP attempts
    assert len(launcher_world.emails()) == 1


class _Raw:
    def __init__(self, body: bytes) -> None:
        self.body = body

    def stream(self, **_: Any) -> Iterator[bytes]:
        yield self.body


def test_s3_failure_is_retried_not_blamed_on_the_user(
    launcher_world: LauncherWorld, lambda_context: FakeLambdaContext
) -> None:
    event = _event()
    etag = event["detail"]["object"]["etag"]
    with Stubber(aws.client("s3")) as s3_stub:
        # data.yaml is there and current (the settle rule's HeadObject), then listing fails.
        s3_stub.add_response("head_object", {"ETag": f'"{etag}"', "Metadata": {}})
        s3_stub.add_client_error("list_objects_v2", "AccessDenied", "Access Denied", 403)
        with pytest.raises(DatasetUnreadableError, match="access denied"):
            launcher_world.invoke(event, lambda_context)
    assert launcher_world.emails() == []
    assert launcher_world.requests == []


def test_s3_failure_in_the_settle_check_raises_for_a_retry(
    launcher_world: LauncherWorld, lambda_context: FakeLambdaContext
) -> None:
    event = _event()
    with Stubber(aws.client("s3")) as s3_stub:
        s3_stub.add_client_error("head_object", "403", "Forbidden", 403)
        with pytest.raises(ClientError, match="Forbidden"):
            launcher_world.invoke(event, lambda_context)
    assert launcher_world.emails() == [] and launcher_world.requests == []
