"""The deployer's events, settings and emails."""

from __future__ import annotations

import pytest

from tests.support.helpers import load_event
from yolo_pipeline.aws.env import SettingsError
from yolo_pipeline.deployer.emails import Deployment, failed_email, serving_email
from yolo_pipeline.deployer.events import (
    EndpointChange,
    MalformedEvent,
    PackageChange,
    parse_event,
)
from yolo_pipeline.deployer.settings import DeployerSettings

pytestmark = pytest.mark.unit

ENV = {
    "NOTIFICATION_TOPIC_ARN": "arn:aws:sns:us-east-1:123456789012:t",
    "IDEMPOTENCY_TABLE": "idem",
    "INFERENCE_IMAGE_URI": "123456789012.dkr.ecr.us-east-1.amazonaws.com/yolo-inference:latest",
    "SAGEMAKER_ROLE_ARN": "arn:aws:iam::123456789012:role/r",
}


def test_the_sample_events_parse() -> None:
    approved = parse_event(load_event("model_package_approved"))
    assert approved == PackageChange(
        group="yolo-pets",
        arn="arn:aws:sagemaker:us-east-1:123456789012:model-package/yolo-pets/1",
        version=1,
        approval="Approved",
        modified="1773489600000",
        region="us-east-1",
    )
    served = parse_event(load_event("endpoint_in_service"))
    assert served == EndpointChange("yolo-pets", "InService", "yolo-pets-v1", "us-east-1")
    failed = parse_event(load_event("endpoint_failed"))
    assert isinstance(failed, EndpointChange) and failed.status == "Failed"


def test_a_version_missing_from_the_detail_comes_from_the_arn() -> None:
    event = load_event("model_package_approved")
    del event["detail"]["ModelPackageVersion"]
    change = parse_event(event)
    assert isinstance(change, PackageChange) and change.version == 1


@pytest.mark.parametrize(
    "event",
    [
        None,
        {"source": "aws.s3", "detail": {}},
        {"source": "aws.sagemaker", "detail-type": "SageMaker Model Package State Change"},
        {"source": "aws.sagemaker", "detail-type": "Other", "detail": {}},
        {"source": "aws.sagemaker", "detail-type": "SageMaker Endpoint State Change",
         "detail": {"EndpointName": "x"}},
    ],
)  # fmt: skip
def test_other_or_malformed_events_are_refused(event: object) -> None:
    with pytest.raises(MalformedEvent):
        parse_event(event)


def test_settings_defaults_and_bounds() -> None:
    settings = DeployerSettings.from_env(ENV)
    assert settings.deploy_on_approval and settings.instance_type == ""
    assert (settings.serverless_memory_mb, settings.serverless_max_concurrency) == (3072, 5)
    off = DeployerSettings.from_env({**ENV, "DEPLOY_ON_APPROVAL": "false"})
    assert not off.deploy_on_approval
    for bad in (
        {"SERVERLESS_MEMORY_MB": "1500"},
        {"SERVERLESS_MEMORY_MB": "8192"},
        {"SERVERLESS_MAX_CONCURRENCY": "201"},
        {"ENDPOINT_INSTANCE_TYPE": "m5.large"},
    ):
        with pytest.raises(SettingsError):
            DeployerSettings.from_env({**ENV, **bad})
    with pytest.raises(SettingsError, match="INFERENCE_IMAGE_URI"):
        DeployerSettings.from_env({k: v for k, v in ENV.items() if k != "INFERENCE_IMAGE_URI"})


DEPLOYMENT = Deployment(
    endpoint="yolo-pets",
    group="yolo-pets",
    version=3,
    region="eu-west-1",
    capacity="serverless, 3072 MB, up to 5 at once",
    metadata={
        "yolo:dataset-uri": "s3://b/datasets/pets/",
        "yolo:job-name": "yolo-pets-3f9a",
        "val:mAP50-95": "0.61",
        "val:mAP50": "0.85",
    },
)


def test_the_serving_email_gives_the_predict_command_and_metrics() -> None:
    email = serving_email(DEPLOYMENT, "yolo")
    assert email.subject == "[yolo] Serving: pets v3"
    assert "yolo-pipeline predict yolo-pets IMAGE.jpg --region eu-west-1" in email.body
    assert "val:mAP50-95" in email.body and "0.61" in email.body
    assert "serverless, 3072 MB" in email.body


def test_the_failure_email_says_why_and_what_to_do() -> None:
    email = failed_email(DEPLOYMENT, "Image size 11 GB exceeds\nthe limit", "yolo")
    assert email.subject == "[yolo] Deploy failed: pets v3"
    assert "Image size 11 GB exceeds\\nthe limit" in email.body  # one line, inert
    assert "make image" in email.body and "What to do" in email.body
