"""The deployment's SageMaker requests, checked against botocore's service model."""

from __future__ import annotations

from dataclasses import replace

import pytest

from tests.support.botocore_model import validate_request
from yolo_pipeline.deployer.requests import (
    create_endpoint_request,
    endpoint_config_request,
    model_request,
    repository,
    update_endpoint_request,
    version_of,
    versioned_name,
)
from yolo_pipeline.deployer.settings import DeployerSettings

pytestmark = pytest.mark.unit

IMAGE = "123456789012.dkr.ecr.us-east-1.amazonaws.com/yolo-inference:latest"
SETTINGS = DeployerSettings(
    notification_topic_arn="arn:aws:sns:us-east-1:123456789012:t",
    idempotency_table="idem",
    job_name_prefix="yolo",
    inference_image_uri=IMAGE,
    role_arn="arn:aws:iam::123456789012:role/yolo-SageMakerRole",
)
PACKAGE = "arn:aws:sagemaker:us-east-1:123456789012:model-package/yolo-pets/3"
MODEL_URI = "s3://bucket/models/yolo-pets-1/output/model.tar.gz"


def test_a_package_naming_the_inference_image_deploys_as_is() -> None:
    container = {"Image": IMAGE.replace(":latest", ":v7"), "ModelDataUrl": MODEL_URI}
    request = model_request(
        name="yolo-pets-v3", settings=SETTINGS, package_arn=PACKAGE,
        package_container=container, group="yolo-pets", version=3,
    )  # fmt: skip
    validate_request("sagemaker", "CreateModel", request)
    assert request["PrimaryContainer"] == {"ModelPackageName": PACKAGE}


def test_an_older_package_naming_the_training_image_gets_the_inference_image() -> None:
    container = {"Image": "123456789012.dkr.ecr.us-east-1.amazonaws.com/yolo-training:latest",
                 "ModelDataUrl": MODEL_URI}  # fmt: skip
    request = model_request(
        name="yolo-pets-v1", settings=SETTINGS, package_arn=PACKAGE,
        package_container=container, group="yolo-pets", version=1,
    )  # fmt: skip
    validate_request("sagemaker", "CreateModel", request)
    assert request["PrimaryContainer"] == {"Image": IMAGE, "ModelDataUrl": MODEL_URI}


def test_serverless_config_by_default_and_an_instance_when_set() -> None:
    serverless = endpoint_config_request(
        name="yolo-pets-v3", model_name="yolo-pets-v3", settings=SETTINGS, group="yolo-pets",
        version=3,
    )  # fmt: skip
    validate_request("sagemaker", "CreateEndpointConfig", serverless)
    (variant,) = serverless["ProductionVariants"]
    assert variant["ServerlessConfig"] == {"MemorySizeInMB": 3072, "MaxConcurrency": 5}
    real_time = endpoint_config_request(
        name="yolo-pets-v3", model_name="yolo-pets-v3",
        settings=replace(SETTINGS, instance_type="ml.m5.large"), group="yolo-pets", version=3,
    )  # fmt: skip
    validate_request("sagemaker", "CreateEndpointConfig", real_time)
    (variant,) = real_time["ProductionVariants"]
    assert (variant["InstanceType"], variant["InitialInstanceCount"]) == ("ml.m5.large", 1)
    assert "ServerlessConfig" not in variant


def test_endpoint_create_and_update_requests() -> None:
    create = create_endpoint_request(
        endpoint="yolo-pets", config_name="yolo-pets-v3", group="yolo-pets", version=3
    )
    validate_request("sagemaker", "CreateEndpoint", create)
    update = update_endpoint_request(endpoint="yolo-pets", config_name="yolo-pets-v4")
    validate_request("sagemaker", "UpdateEndpoint", update)


def test_versioned_names_fit_63_characters_and_name_their_version() -> None:
    assert versioned_name("yolo-pets", 12) == "yolo-pets-v12"
    long = "yolo-" + "a" * 58
    names = {versioned_name(long, 9999), versioned_name(long[:-1] + "b", 9999)}
    assert len(names) == 2
    for name in names:
        assert len(name) <= 63 and version_of(name) == 9999
        validate_request("sagemaker", "DescribeEndpointConfig", {"EndpointConfigName": name})
    assert version_of("something-else") is None


@pytest.mark.parametrize(
    ("uri", "repo"),
    [
        (IMAGE, IMAGE.rsplit(":", 1)[0]),
        ("host:5000/repo@sha256:abc", "host:5000/repo"),
        ("host:5000/repo", "host:5000/repo"),
    ],
)
def test_repository_drops_the_tag_or_digest(uri: str, repo: str) -> None:
    assert repository(uri) == repo
