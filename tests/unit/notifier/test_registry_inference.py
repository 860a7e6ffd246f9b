"""Registry packages name the inference image, so the package ARN deploys as is."""

from __future__ import annotations

import pytest

from tests.support.botocore_model import validate_request
from yolo_pipeline.notifier.registry import create_package_request
from yolo_pipeline.notifier.settings import NotifierSettings

pytestmark = pytest.mark.unit

TRAINING = "123456789012.dkr.ecr.us-east-1.amazonaws.com/yolo-training:latest"
INFERENCE = "123456789012.dkr.ecr.us-east-1.amazonaws.com/yolo-inference:latest"
MODEL = "s3://b/models/yolo-pets-1/output/model.tar.gz"


def request(inference: str) -> dict[str, object]:
    return create_package_request(
        group="yolo-pets",
        job_name="yolo-pets-1",
        model_uri=MODEL,
        image_uri=TRAINING,
        metadata={"yolo:task": "pose"},
        task="pose",
        inference_image_uri=inference,
    )


def test_the_package_names_the_inference_image_the_archive_and_the_served_types() -> None:
    made = request(INFERENCE)
    validate_request("sagemaker", "CreateModelPackage", made)
    spec = made["InferenceSpecification"]
    assert isinstance(spec, dict)
    (container,) = spec["Containers"]
    assert container["Image"] == INFERENCE and container["ModelDataUrl"] == MODEL
    assert set(spec["SupportedContentTypes"]) >= {"image/jpeg", "image/png", "application/json"}
    assert spec["SupportedResponseMIMETypes"] == ["application/json"]
    assert made["CustomerMetadataProperties"] == {"yolo:task": "pose"}


def test_without_an_inference_image_the_training_image_stays() -> None:
    made = request("")
    validate_request("sagemaker", "CreateModelPackage", made)
    assert made["InferenceSpecification"]["Containers"][0]["Image"] == TRAINING  # type: ignore[index]


def test_the_notifier_reads_the_inference_image_from_its_env() -> None:
    env = {"NOTIFICATION_TOPIC_ARN": "arn:aws:sns:us-east-1:1:t", "IDEMPOTENCY_TABLE": "t"}
    assert NotifierSettings.from_env(env).inference_image_uri == ""
    settings = NotifierSettings.from_env({**env, "INFERENCE_IMAGE_URI": INFERENCE})
    assert settings.inference_image_uri == INFERENCE
