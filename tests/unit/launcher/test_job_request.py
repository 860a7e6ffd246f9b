"""The CreateTrainingJob request: every variant must pass botocore's model checks."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.support.botocore_model import validate_request
from yolo_pipeline.contract import ENV_DATASET_DIGEST
from yolo_pipeline.launcher.job_request import (
    MAX_SECONDS,
    PLACEHOLDER_CHECKPOINT_S3_URI,
    PLACEHOLDER_IMAGE_URI,
    PLACEHOLDER_OUTPUT_S3_URI,
    PLACEHOLDER_ROLE_ARN,
    build_training_job_request,
    spot_wait_seconds,
    tag_value,
)
from yolo_pipeline.launcher.settings import DEFAULT_ALLOWED_INSTANCE_TYPES
from yolo_pipeline.training.config import SageMakerOptions
from yolo_pipeline.training.metric_line import METRIC_DEFINITIONS

SPOT = SageMakerOptions("ml.g4dn.xlarge", True, 24 * 3600, 50, "File")


def _request(**overrides: Any) -> dict[str, Any]:
    kwargs: dict[str, Any] = {
        "job_name": "yolo-shapes-0123456789",
        "dataset_uri": "s3://bucket/datasets/shapes/",
        "image_uri": PLACEHOLDER_IMAGE_URI,
        "role_arn": PLACEHOLDER_ROLE_ARN,
        "output_s3_uri": PLACEHOLDER_OUTPUT_S3_URI,
        "checkpoint_s3_uri": PLACEHOLDER_CHECKPOINT_S3_URI,
        "options": SPOT,
    }
    kwargs.update(overrides)
    return build_training_job_request(**kwargs)


def test_spot_request_is_complete_and_valid() -> None:
    request = _request(
        train_args={"epochs": 50, "imgsz": 640, "export": "onnx"},
        data_yaml_etag="b1946ac92492d2347c6235b4d2611184",
        data_yaml_version="Y09t5mKxVqYq0qlZ5kD0O1xY0G2bK0cS",
    )
    validate_request("sagemaker", "CreateTrainingJob", request)
    assert request["HyperParameters"] == {"epochs": "50", "imgsz": "640", "export": "onnx"}
    assert request["AlgorithmSpecification"]["MetricDefinitions"] == METRIC_DEFINITIONS
    assert request["ResourceConfig"]["InstanceCount"] == 1
    assert request["StoppingCondition"] == {
        "MaxRuntimeInSeconds": 86400,
        "MaxWaitTimeInSeconds": 172800,
    }
    assert request["CheckpointConfig"] == {
        "S3Uri": "s3://yolo-artifacts-123456789012/checkpoints/yolo-shapes-0123456789/",
        "LocalPath": "/opt/ml/checkpoints",
    }
    channel = request["InputDataConfig"][0]
    assert channel["DataSource"]["S3DataSource"] == {
        "S3DataType": "S3Prefix",
        "S3Uri": "s3://bucket/datasets/shapes/",
        "S3DataDistributionType": "FullyReplicated",
    }
    assert {t["Key"] for t in request["Tags"]} == {
        "yolo:pipeline",
        "yolo:dataset-uri",
        "yolo:data-yaml-etag",
        "yolo:data-yaml-version",
    }
    assert request["Environment"]["YOLO_OFFLINE"] == "1"


def test_on_demand_has_no_wait_but_keeps_checkpoints() -> None:
    request = _request(options=SageMakerOptions("ml.m5.xlarge", False, 3600, 30, "FastFile"))
    validate_request("sagemaker", "CreateTrainingJob", request)
    assert request["StoppingCondition"] == {"MaxRuntimeInSeconds": 3600}
    # A stopped run (watchdog, user) keeps its weights in the bucket, spot or not.
    assert request["CheckpointConfig"]["LocalPath"] == "/opt/ml/checkpoints"
    assert request["EnableManagedSpotTraining"] is False
    assert request["AlgorithmSpecification"]["TrainingInputMode"] == "FastFile"


def test_dataset_folder_gets_a_trailing_slash_and_odd_names_stay_taggable() -> None:
    request = _request(dataset_uri='s3://bucket/datasets/R&D, "v2" (ok)')
    validate_request("sagemaker", "CreateTrainingJob", request)
    channel = request["InputDataConfig"][0]["DataSource"]["S3DataSource"]
    assert channel["S3Uri"] == 's3://bucket/datasets/R&D, "v2" (ok)/'
    tags = {t["Key"]: t["Value"] for t in request["Tags"]}
    assert tags["yolo:dataset-uri"] == "s3://bucket/datasets/R_D_ _v2_ _ok_/"


def test_non_s3_dataset_is_refused() -> None:
    with pytest.raises(ValueError, match="s3://"):
        _request(dataset_uri="/tmp/shapes")


def test_too_many_hyperparameters_is_refused() -> None:
    with pytest.raises(ValueError, match="at most 100"):
        _request(train_args={f"k{i}": i for i in range(101)})


@pytest.mark.parametrize("runtime", [60, 3600, 24 * 3600, 15 * 24 * 3600, MAX_SECONDS])
def test_spot_wait_is_at_least_runtime_and_capped(runtime: int) -> None:
    wait = spot_wait_seconds(runtime)
    assert runtime <= wait <= MAX_SECONDS


def test_tag_value_keeps_unicode_letters() -> None:
    assert tag_value("Café été 2026/x") == "Café été 2026/x"
    assert len(tag_value("x" * 1000)) == 256


@settings(max_examples=150, deadline=None)
@given(
    instance_type=st.sampled_from(DEFAULT_ALLOWED_INSTANCE_TYPES),
    spot=st.booleans(),
    runtime=st.integers(60, MAX_SECONDS),
    volume=st.integers(1, 16384),
    mode=st.sampled_from(["File", "FastFile"]),
    folder=st.text(min_size=1, max_size=200).filter(lambda s: "\n" not in s and "\r" not in s),
    etag=st.text(alphabet="0123456789abcdef-", max_size=40),
)
def test_every_request_variant_passes_the_model(
    instance_type: str,
    spot: bool,
    runtime: int,
    volume: int,
    mode: str,
    folder: str,
    etag: str,
) -> None:
    request = _request(
        options=SageMakerOptions(instance_type, spot, runtime, volume, mode),
        dataset_uri=f"s3://bucket/datasets/{folder}/",
        data_yaml_etag=etag,
    )
    validate_request("sagemaker", "CreateTrainingJob", request)


def test_a_dataset_zip_is_the_channel_as_the_exact_key() -> None:
    request = _request(dataset_uri="s3://bucket/datasets/shapes.zip")
    validate_request("sagemaker", "CreateTrainingJob", request)
    source = request["InputDataConfig"][0]["DataSource"]["S3DataSource"]
    assert source == {
        "S3DataType": "S3Prefix",
        "S3Uri": "s3://bucket/datasets/shapes.zip",
        "S3DataDistributionType": "FullyReplicated",
    }
    tags = {t["Key"]: t["Value"] for t in request["Tags"]}
    assert tags["yolo:dataset-uri"] == "s3://bucket/datasets/shapes.zip"


def test_the_dataset_name_tag_is_added_for_the_notifier() -> None:
    from yolo_pipeline.launcher.job_request import with_dataset_name

    request = {"TrainingJobName": "yolo-x", "Tags": [{"Key": "yolo:pipeline", "Value": "p"}]}
    tagged = with_dataset_name(request, "team/set")
    assert tagged["Tags"][-1] == {"Key": "yolo:dataset-name", "Value": "team/set"}
    assert request["Tags"] == [{"Key": "yolo:pipeline", "Value": "p"}]  # not mutated
    assert with_dataset_name(request, "") is request


def test_the_dataset_digest_travels_in_the_environment() -> None:
    digest = "v1:" + "ab" * 32
    request = _request(dataset_digest=digest)
    validate_request("sagemaker", "CreateTrainingJob", request)
    assert request["Environment"][ENV_DATASET_DIGEST] == digest
    assert ENV_DATASET_DIGEST not in _request()["Environment"]  # a request made by hand
