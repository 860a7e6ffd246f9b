"""Hostile uploads against the launcher: every one gets exactly one email that
SNS accepts (moto's SNS enforces the 256 KB limit), never a stack trace or silence."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from botocore.stub import Stubber

from tests.support.dataset_factory import detect_dataset, put_s3, with_changes
from tests.support.helpers import FakeLambdaContext, load_event
from tests.support.hostile import ALIAS_BOMB, DEEP, assert_sns_accepts
from tests.support.launcher_world import BUCKET, TABLE, LauncherWorld, upload_event
from yolo_pipeline.aws import clients as aws
from yolo_pipeline.aws.email import Email
from yolo_pipeline.launcher.notices import (
    IDEMPOTENCY_TTL_SECONDS,
    STARTED_NOTICE_WINDOW_SECONDS,
)

ARN = "arn:aws:sagemaker:us-east-1:123456789012:training-job/x"


def _reject(world: LauncherWorld, context: FakeLambdaContext, **changes: bytes | str) -> str:
    """Upload a changed dataset; assert one SNS-valid rejection and no job; its body."""
    put_s3(
        with_changes(detect_dataset(), **changes), BUCKET, "datasets/shapes/", create_bucket=False
    )
    result = world.invoke(upload_event("datasets/shapes/data.yaml"), context)
    assert result["status"] == "rejected"
    (email,) = world.emails()
    assert world.requests == []
    assert_sns_accepts(Email(email["subject"], email["message"]))
    assert email["subject"] == "[yolo] Dataset rejected: shapes"
    return str(email["message"])


@pytest.mark.parametrize(
    ("training_yaml", "words"),
    [
        (ALIAS_BOMB, "uses a YAML anchor"),
        (DEEP, "nested more than"),
        ("epochs: 3000000\n", "the limit is 10,000"),
    ],
)
def test_hostile_training_yaml_gets_one_rejection(
    launcher_world: LauncherWorld,
    lambda_context: FakeLambdaContext,
    training_yaml: str,
    words: str,
) -> None:
    body = _reject(launcher_world, lambda_context, **{"training.yaml": training_yaml})
    assert "training.yaml, line 1" in body and words in body


def test_nc_twenty_million_gets_one_rejection_and_no_job(
    launcher_world: LauncherWorld, lambda_context: FakeLambdaContext
) -> None:
    data = "train: images/train\nval: images/val\nnc: 20000000\n"
    body = _reject(launcher_world, lambda_context, **{"data.yaml": data})
    assert "data.yaml, line 3, nc" in body and "is 20000000; it must be from 1 to 10,000" in body


def test_a_900000_character_split_path_gets_a_bounded_rejection(
    launcher_world: LauncherWorld, lambda_context: FakeLambdaContext
) -> None:
    data = f"train: {'x/' * 450_000}\nval: images/val\nnames: [a, b, c]\n"
    body = _reject(launcher_world, lambda_context, **{"data.yaml": data})
    assert "does not exist" in body and len(body) < 20_000


def test_a_3000000_digit_label_value_gets_a_bounded_rejection(
    launcher_world: LauncherWorld, lambda_context: FakeLambdaContext
) -> None:
    row = "0 0.5 0.5 0.1 " + "9" * 3_000_000 + "\n"
    body = _reject(launcher_world, lambda_context, **{"labels/train/train_00000.txt": row})
    assert "labels/train/train_00000.txt, line 1" in body and len(body) < 20_000


def test_thousands_of_problems_are_capped_with_and_n_more(
    launcher_world: LauncherWorld, lambda_context: FakeLambdaContext
) -> None:
    files = detect_dataset(n_train=300, n_val=2)
    bad = {
        path: ("9 " + "x" * 3000 + " 0.5 0.5 0.1\n") * 6
        for path in files
        if path.startswith("labels/train/")
    }
    put_s3(with_changes(files, **bad), BUCKET, "datasets/shapes/", create_bucket=False)
    launcher_world.invoke(upload_event("datasets/shapes/data.yaml"), lambda_context)
    (email,) = launcher_world.emails()
    assert_sns_accepts(Email(email["subject"], email["message"]))
    assert "more label problems" in email["message"] or "more problems" in email["message"]


def test_control_characters_in_the_folder_name_reach_neither_subject_nor_body(
    launcher_world: LauncherWorld, lambda_context: FakeLambdaContext
) -> None:
    name = "evil\x1b[31m\x07 set"
    files = with_changes(detect_dataset(), **{"data.yaml": "train: x\n"})
    put_s3(files, BUCKET, f"datasets/{name}/", create_bucket=False)
    launcher_world.invoke(upload_event(f"datasets/{name}/data.yaml"), lambda_context)
    (email,) = launcher_world.emails()
    assert_sns_accepts(Email(email["subject"], email["message"]))
    assert "\\x1b[31m\\x07" in email["message"]


@pytest.fixture
def sagemaker_stub(launcher_world: LauncherWorld) -> Iterator[Stubber]:
    put_s3(detect_dataset(), BUCKET, "datasets/shapes/", create_bucket=False)
    with Stubber(aws.client("sagemaker")) as stub:
        yield stub


def _forget_idempotency_records() -> None:
    """What DynamoDB's TTL does once the idempotency window has passed."""
    table = aws.client("dynamodb")
    for item in table.scan(TableName=TABLE)["Items"]:
        if not item["id"]["S"].startswith("started#"):
            table.delete_item(TableName=TABLE, Key={"id": item["id"]})


def test_a_replay_after_the_idempotency_window_does_not_email_again(
    launcher_world: LauncherWorld, sagemaker_stub: Stubber, lambda_context: FakeLambdaContext
) -> None:
    event = upload_event("datasets/shapes/data.yaml")
    sagemaker_stub.add_response("create_training_job", {"TrainingJobArn": ARN})
    assert launcher_world.invoke(event, lambda_context)["status"] == "started"

    start = launcher_world.module.launcher.clock()
    launcher_world.module.launcher.clock = lambda: start + 30 * IDEMPOTENCY_TTL_SECONDS
    _forget_idempotency_records()
    sagemaker_stub.add_client_error(
        "create_training_job", "ResourceInUse", "Training job names must be unique"
    )
    result = launcher_world.invoke(event, lambda_context)

    assert result["status"] == "already_started" and result["email_sent"] is False
    assert len(launcher_world.emails()) == 1
    marker = aws.client("dynamodb").scan(TableName=TABLE)["Items"]
    started = next(m for m in marker if m["id"]["S"].startswith("started#"))
    # Kept for years: as long as a job name matters.
    assert int(started["expiration"]["N"]) >= start + STARTED_NOTICE_WINDOW_SECONDS - 60


@pytest.mark.parametrize(
    "event",
    [
        {"source": "aws.s3", "detail-type": "Object Created"},
        {"source": "aws.s3", "detail-type": "Object Created", "detail": {"bucket": "b"}},
        {**load_event("dataset_uploaded"), "detail": {"object": {"key": 5}, "bucket": {}}},
        [],
    ],
)
def test_malformed_events_are_logged_and_dropped(
    launcher_world: LauncherWorld,
    lambda_context: FakeLambdaContext,
    event: Any,
    caplog: pytest.LogCaptureFixture,
) -> None:
    result = launcher_world.invoke(event, lambda_context)
    assert result["status"] == "ignored"
    assert launcher_world.emails() == [] and launcher_world.requests == []
