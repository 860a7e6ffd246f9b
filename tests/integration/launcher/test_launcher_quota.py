"""Quota emails go out once per upload, though Lambda retries the failed event.

A quota failure raises (for the on-failure destination), so Powertools idempotency drops
its record and Lambda retries the event twice: the launcher keeps a ``quota#<upload>``
marker with a 6 h TTL in the idempotency table so the user gets one email, not three.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest
from botocore.exceptions import ClientError
from botocore.stub import Stubber

from tests.support.dataset_factory import detect_dataset, put_s3
from tests.support.helpers import FakeLambdaContext
from tests.support.launcher_world import (
    BUCKET,
    TABLE,
    LauncherWorld,
    powertools_time,
    upload_event,
)
from yolo_pipeline.aws import clients as aws
from yolo_pipeline.launcher.notices import QUOTA_NOTICE_WINDOW_SECONDS

ARN = "arn:aws:sagemaker:us-east-1:123456789012:training-job/x"
QUOTA_MESSAGE = (
    "The account-level service limit 'ml.g4dn.xlarge for spot training job usage' is 0 "
    "Instances, with current utilization of 0 Instances and a request delta of 1 Instances."
)


@pytest.fixture
def sagemaker_stub(launcher_world: LauncherWorld) -> Iterator[Stubber]:
    put_s3(detect_dataset(), BUCKET, "datasets/shapes/", create_bucket=False)
    with Stubber(aws.client("sagemaker")) as stub:
        yield stub


class Clock:
    """The launcher's clock, moved by hand (a redrive comes days later)."""

    def __init__(self) -> None:
        self.now = time.time()

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock(launcher_world: LauncherWorld, monkeypatch: pytest.MonkeyPatch) -> Clock:
    fake = Clock()
    launcher_world.module.launcher.clock = fake
    powertools_time(monkeypatch, fake)  # the notice markers' windows run on it too
    return fake


def _event(sequencer: str = "0062E99A88DC407460") -> dict[str, Any]:
    return upload_event("datasets/shapes/data.yaml", sequencer=sequencer)


def _quota_markers() -> list[dict[str, Any]]:
    """The quota notice markers in the idempotency table (one per upload)."""
    items = aws.client("dynamodb").scan(TableName=TABLE)["Items"]
    return [item for item in items if item["id"]["S"].startswith("quota#")]


def _quota_emails(world: LauncherWorld) -> list[dict[str, Any]]:
    return [e for e in world.emails() if e["attributes"]["kind"]["Value"] == "QuotaExceeded"]


def _attempt_with_quota_error(
    world: LauncherWorld, stub: Stubber, event: dict[str, Any], context: FakeLambdaContext
) -> None:
    stub.add_client_error(
        "create_training_job", "ResourceLimitExceeded", QUOTA_MESSAGE, http_status_code=400
    )
    with pytest.raises(ClientError, match="ResourceLimitExceeded"):
        world.invoke(event, context)


def test_three_attempts_of_one_upload_raise_three_times_and_email_once(
    launcher_world: LauncherWorld,
    sagemaker_stub: Stubber,
    clock: Clock,
    lambda_context: FakeLambdaContext,
) -> None:
    event = _event()
    start = clock.now
    for delay in (0, 60, 180):  # Lambda's async retries: +1 min, then +2 min
        clock.now = start + delay
        _attempt_with_quota_error(launcher_world, sagemaker_stub, event, lambda_context)

    assert len(launcher_world.requests) == 3  # every attempt asked SageMaker again
    (email,) = launcher_world.emails()
    assert email["subject"] == "[yolo] Quota reached: shapes"
    (item,) = _quota_markers()
    assert int(item["expiration"]["N"]) == int(start) + QUOTA_NOTICE_WINDOW_SECONDS
    sagemaker_stub.assert_no_pending_responses()


def test_a_redrive_after_the_window_that_fails_again_emails_again(
    launcher_world: LauncherWorld,
    sagemaker_stub: Stubber,
    clock: Clock,
    lambda_context: FakeLambdaContext,
) -> None:
    event = _event()
    _attempt_with_quota_error(launcher_world, sagemaker_stub, event, lambda_context)
    _attempt_with_quota_error(launcher_world, sagemaker_stub, event, lambda_context)
    assert len(_quota_emails(launcher_world)) == 1

    # Days later (the TTL has not necessarily deleted the marker yet): redriven, and the
    # quota is still too low. The user must hear about it again, once.
    clock.now += 3 * 24 * 3600
    _attempt_with_quota_error(launcher_world, sagemaker_stub, event, lambda_context)
    _attempt_with_quota_error(launcher_world, sagemaker_stub, event, lambda_context)
    assert len(_quota_emails(launcher_world)) == 2

    # Quota raised at last: the next redrive starts the job with the same name.
    sagemaker_stub.add_response("create_training_job", {"TrainingJobArn": ARN})
    assert launcher_world.invoke(event, lambda_context)["status"] == "started"
    assert len({r["TrainingJobName"] for r in launcher_world.requests}) == 1
    assert [e["attributes"]["kind"]["Value"] for e in launcher_world.emails()] == [
        "QuotaExceeded",
        "QuotaExceeded",
        "JobStarted",
    ]


def test_another_upload_of_the_same_dataset_gets_its_own_quota_email(
    launcher_world: LauncherWorld,
    sagemaker_stub: Stubber,
    clock: Clock,
    lambda_context: FakeLambdaContext,
) -> None:
    _attempt_with_quota_error(launcher_world, sagemaker_stub, _event(), lambda_context)
    _attempt_with_quota_error(
        launcher_world, sagemaker_stub, _event("0062E99A88DC4074FF"), lambda_context
    )
    assert len(_quota_emails(launcher_world)) == 2
    assert len({r["TrainingJobName"] for r in launcher_world.requests}) == 2


def test_a_failed_publish_releases_the_marker_so_the_retry_emails(
    launcher_world: LauncherWorld,
    sagemaker_stub: Stubber,
    clock: Clock,
    lambda_context: FakeLambdaContext,
) -> None:
    event = _event()
    with Stubber(aws.client("sns")) as sns_stub:
        sns_stub.add_client_error("publish", "InternalError", "SNS is down", 500)
        sagemaker_stub.add_client_error(
            "create_training_job", "ResourceLimitExceeded", QUOTA_MESSAGE, http_status_code=400
        )
        with pytest.raises(ClientError, match="SNS is down"):
            launcher_world.invoke(event, lambda_context)
    assert launcher_world.emails() == []
    assert _quota_markers() == []

    _attempt_with_quota_error(launcher_world, sagemaker_stub, event, lambda_context)
    _attempt_with_quota_error(launcher_world, sagemaker_stub, event, lambda_context)
    assert len(_quota_emails(launcher_world)) == 1


def test_dynamodb_failing_on_the_marker_still_sends_the_email(
    launcher_world: LauncherWorld,
    sagemaker_stub: Stubber,
    clock: Clock,
    lambda_context: FakeLambdaContext,
) -> None:
    dynamodb = aws.client("dynamodb")

    def fail_marker_puts(params: dict[str, Any], **_: Any) -> tuple[Any, dict[str, Any]] | None:
        # params is the serialized request; only the quota marker fails, Powertools'
        # own records go through to moto.
        if b'"quota#' not in params["body"]:
            return None
        error = {"Code": "InternalServerError", "Message": "DynamoDB is down"}
        return _Http(500), {"Error": error, "ResponseMetadata": {"HTTPStatusCode": 500}}

    dynamodb.meta.events.register_first("before-call.dynamodb.PutItem", fail_marker_puts)
    try:
        _attempt_with_quota_error(launcher_world, sagemaker_stub, _event(), lambda_context)
    finally:
        dynamodb.meta.events.unregister("before-call.dynamodb.PutItem", fail_marker_puts)
    assert len(_quota_emails(launcher_world)) == 1
    assert _quota_markers() == []


class _Http:
    def __init__(self, status_code: int) -> None:
        self.status_code = status_code
