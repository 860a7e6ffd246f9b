"""The launcher's image guard against moto ECR: no image -> one email and no job."""

from __future__ import annotations

import importlib
import json
from collections.abc import Iterator
from typing import Any

import pytest

from tests.support.botocore_model import validate_request
from tests.support.dataset_factory import detect_dataset, put_s3
from tests.support.helpers import FakeLambdaContext
from tests.support.launcher_world import (
    ACCOUNT,
    BUCKET,
    LAUNCHER_ENV,
    REGION,
    LauncherWorld,
    make_launcher_world,
    upload_event,
)
from yolo_pipeline.aws import clients as aws_clients
from yolo_pipeline.aws.image_guard import MISSING_TTL_SECONDS, PRESENT_TTL_SECONDS

REPO_NAME = "yolo-training"  # the repository of LAUNCHER_ENV's TRAINING_IMAGE_URI
REPO_URI = f"{ACCOUNT}.dkr.ecr.{REGION}.amazonaws.com/{REPO_NAME}"
MANIFEST = json.dumps(
    {
        "schemaVersion": 2,
        "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
        "config": {
            "mediaType": "application/vnd.docker.container.image.v1+json",
            "size": 1,
            "digest": "sha256:" + "c3" * 32,
        },
        "layers": [],
    }
)


class Clock:
    def __init__(self) -> None:
        self.now = 5000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def guarded(
    aws: None, monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[LauncherWorld, list[Any], Clock]]:
    """The launcher deployed as the template wires it: its image in its own repository."""
    assert LAUNCHER_ENV["TRAINING_IMAGE_URI"] == f"{REPO_URI}:latest"
    monkeypatch.setenv("TRAINING_IMAGE_REPOSITORY_URI", REPO_URI)
    world = make_launcher_world(monkeypatch)
    aws_clients.client("ecr").create_repository(repositoryName=REPO_NAME)
    describes: list[Any] = []

    def spy(params: dict[str, Any], **_: Any) -> None:
        validate_request("ecr", "DescribeImages", params)
        describes.append(params)

    aws_clients.client("ecr", REGION).meta.events.register(
        "provide-client-params.ecr.DescribeImages", spy
    )
    clock = Clock()
    world.module.launcher.image_guard.clock = clock
    put_s3(detect_dataset(n_train=6, n_val=3), BUCKET, "datasets/shapes/", create_bucket=False)
    yield world, describes, clock


def push_image() -> None:
    aws_clients.client("ecr").put_image(
        repositoryName=REPO_NAME, imageManifest=MANIFEST, imageTag="latest"
    )


def test_no_image_sends_one_email_and_starts_no_job(
    guarded: tuple[LauncherWorld, list[Any], Clock], lambda_context: FakeLambdaContext
) -> None:
    world, describes, clock = guarded
    event = upload_event("datasets/shapes/data.yaml")

    result = world.invoke(event, lambda_context)

    assert result["status"] == "no_image"
    assert world.requests == []  # no CreateTrainingJob
    (email,) = world.emails()
    assert email["subject"] == "[yolo] Training image missing: shapes"
    assert "make image" in email["message"] and f"{REPO_URI}:latest" in email["message"]
    assert describes == [
        {"registryId": ACCOUNT, "repositoryName": REPO_NAME, "imageIds": [{"imageTag": "latest"}]}
    ]

    # Redelivery of the same event: the idempotent result, no second email, no job.
    assert world.invoke(event, lambda_context) == result
    assert len(world.emails()) == 1 and world.requests == []

    # The user runs `make image`, then uploads data.yaml again: the job starts.
    push_image()
    clock.now += MISSING_TTL_SECONDS + 1
    again = world.invoke(
        upload_event("datasets/shapes/data.yaml", sequencer="0062E99A88DC407999"), lambda_context
    )
    assert again["status"] == "started"
    assert len(world.requests) == 1
    assert world.requests[0]["AlgorithmSpecification"]["TrainingImage"] == f"{REPO_URI}:latest"
    assert [e["subject"] for e in world.emails()][-1] == "[yolo] Training started: shapes"


def test_with_the_image_jobs_start_and_a_burst_asks_ecr_once(
    guarded: tuple[LauncherWorld, list[Any], Clock], lambda_context: FakeLambdaContext
) -> None:
    world, describes, clock = guarded
    push_image()

    for i in range(4):
        sequencer = f"0062E99A88DC40{7460 + i}"
        result = world.invoke(upload_event("datasets/shapes/data.yaml", sequencer), lambda_context)
        assert result["status"] == "started"
    assert len(world.requests) == 4
    assert len(describes) == 1  # the answer is remembered
    clock.now += PRESENT_TTL_SECONDS + 1
    world.invoke(upload_event("datasets/shapes/data.yaml", "0062E99A88DC409000"), lambda_context)
    assert len(describes) == 2  # and asked again after a minute


def test_an_image_in_another_repository_is_not_checked(
    aws: None, monkeypatch: pytest.MonkeyPatch, lambda_context: FakeLambdaContext
) -> None:
    # TrainingImageUri pointing elsewhere: DescribeImages there is not the stack's to grant.
    monkeypatch.setenv("TRAINING_IMAGE_REPOSITORY_URI", REPO_URI)
    world = make_launcher_world(monkeypatch)
    monkeypatch.setenv("TRAINING_IMAGE_URI", "763104351884.dkr.ecr.us-east-1.amazonaws.com/other:1")
    world.module = importlib.reload(world.module)  # cold start with that image
    calls: list[str] = []
    aws_clients.client("ecr", REGION).meta.events.register(
        "before-call.ecr", lambda model, **_: calls.append(model.name)
    )
    put_s3(detect_dataset(n_train=6, n_val=3), BUCKET, "datasets/shapes/", create_bucket=False)

    result = world.invoke(upload_event("datasets/shapes/data.yaml"), lambda_context)

    assert result["status"] == "started" and calls == []
