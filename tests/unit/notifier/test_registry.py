"""Registry requests: names, tokens and metadata that botocore's model accepts."""

from __future__ import annotations

import re

import pytest
from botocore.exceptions import ClientError

from tests.support.botocore_model import validate_request
from yolo_pipeline.notifier import registry
from yolo_pipeline.notifier.registry import (
    call,
    client_token,
    create_package_request,
    group_name,
    metadata_properties,
)

GROUP = re.compile(r"^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$")


@pytest.mark.parametrize(
    "dataset", ["pets", "Données d'été", "猫と犬", "x" * 200, "a--b__c", "", "-"]
)
def test_group_names_are_valid_and_start_with_the_prefix(dataset: str) -> None:
    name = group_name("yolo", dataset)
    assert GROUP.match(name) and len(name) <= 63, name
    assert name.startswith("yolo-")  # the IAM policy's model-package-group/<prefix>-*


def test_client_token_is_stable_per_job() -> None:
    token = client_token("yolo-pets-3f9a1c2e4b")
    assert token == client_token("yolo-pets-3f9a1c2e4b") != client_token("yolo-pets-0000000000")
    assert re.fullmatch(r"[a-zA-Z0-9-]{1,36}", token)


@pytest.mark.parametrize(
    "dataset_uri",
    [
        "s3://b/datasets/pets/",
        "s3://b/datasets/a (copy), #2 [final]/",
        "s3://b/" + "d" * 400,
        "s3://b/datasets/tab\there/",
        "s3://b/datasets/sep\x1c\x1d\x1e\x1f/",
        "s3://b/datasets/" + "\U0001d49c" * 200 + "/",  # letters outside the BMP: 2 units each
    ],
)
def test_the_create_request_passes_botocore_model(dataset_uri: str) -> None:
    metadata = metadata_properties(
        job_name="yolo-pets-3f9a1c2e4b",
        dataset_uri=dataset_uri,
        task="segment",
        metrics={"val:mAP50-95": 0.61234567, "val:mAP50": 0.8, "train:box_loss": 1.0},
        best_epoch=12,
        epochs_run=30,
        trained_at="2026-03-14 11:05 UTC",
    )
    assert "train:box_loss" not in metadata and metadata["val:mAP50-95"] == "0.612346"
    for value in metadata.values():  # AWS counts UTF-16 units
        assert 1 <= len(value.encode("utf-16-le")) // 2 <= 256
        assert not any(ch in value for ch in "\t\x1c\x1d\x1e\x1f")
    request = create_package_request(
        group="yolo-pets",
        job_name="yolo-pets-3f9a1c2e4b",
        model_uri="s3://b/models/yolo-pets-3f9a1c2e4b/output/model.tar.gz",
        image_uri="123456789012.dkr.ecr.us-east-1.amazonaws.com/yolo-training:latest",
        metadata=metadata,
        task="segment",
    )
    validate_request("sagemaker", "CreateModelPackage", request)
    assert request["ModelApprovalStatus"] == "PendingManualApproval"
    assert request["Task"] == "IMAGE_SEGMENTATION"


def _error(code: str) -> ClientError:
    return ClientError({"Error": {"Code": code, "Message": code}}, "DescribeModelPackageGroup")


def test_throttling_is_retried_with_backoff_then_raised() -> None:
    waits: list[float] = []
    attempts = {"n": 0}

    def throttled(**_: object) -> None:
        attempts["n"] += 1
        raise _error("ThrottlingException")

    with pytest.raises(ClientError):
        call(throttled, waits.append)
    assert attempts["n"] == registry.ATTEMPTS
    assert waits == [1.0, 2.0]


def test_a_refusal_is_not_retried() -> None:
    attempts = {"n": 0}

    def refused(**_: object) -> None:
        attempts["n"] += 1
        raise _error("AccessDeniedException")

    with pytest.raises(ClientError):
        call(refused, lambda _s: None)
    assert attempts["n"] == 1
