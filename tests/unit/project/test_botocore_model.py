"""The test helper that validates requests against botocore's service model."""

from __future__ import annotations

import pytest

from tests.support.botocore_model import (
    ModelValidationError,
    problems,
    python_regex,
    validate_request,
    validate_response,
)


def test_a_valid_request_passes() -> None:
    validate_request("sagemaker", "DescribeTrainingJob", {"TrainingJobName": "yolo-a-1"})
    validate_request(
        "sns",
        "Publish",
        {"TopicArn": "arn:aws:sns:us-east-1:123456789012:t", "Message": "hi", "Subject": "s"},
    )


def test_every_problem_is_reported_at_once() -> None:
    with pytest.raises(ModelValidationError) as info:
        validate_request(
            "sagemaker",
            "CreateTrainingJob",
            {
                "TrainingJobName": "bad_name",
                "RoleArn": "not-an-arn",
                "OutputDataConfig": {},
                "AlgorithmSpecification": {"TrainingInputMode": "Stream"},
                "HyperParameters": {str(i): "v" for i in range(101)},
                "ResourceConfig": {"InstanceType": "ml.g4dn.xlarge", "InstanceCount": "1"},
                "Tags": [{"Key": "k", "Value": 'quoted "value"'}],
                "Bogus": True,
            },
        )
    found = "\n".join(info.value.problems)
    assert "Unknown parameter" in found and "Bogus" in found  # ParamValidator
    assert "S3OutputPath" in found  # required member
    assert "InstanceCount" in found and "invalid type" in found.lower()
    assert "TrainingJobName: 'bad_name' does not match" in found  # pattern
    assert "TrainingInputMode: 'Stream' is not one of" in found  # enum
    assert "HyperParameters: length 101 is above the maximum 100" in found  # max
    assert "Tags[0].Value" in found  # Java \p{L} pattern, translated
    assert len(info.value.problems) >= 8


def test_number_limits_and_map_values() -> None:
    found = problems(
        "sagemaker",
        "CreateTrainingJob",
        {
            "TrainingJobName": "a",
            "RoleArn": "arn:aws:iam::123456789012:role/r",
            "OutputDataConfig": {"S3OutputPath": "s3://b/o/"},
            "StoppingCondition": {"MaxPendingTimeInSeconds": 60},
            "HyperParameters": {"k": "x" * 2501},
        },
    )
    assert any("MaxPendingTimeInSeconds: value 60 is below the minimum 1800" in p for p in found)
    assert any("HyperParameters['k']: length 2501" in p for p in found)


def test_java_property_classes_translate() -> None:
    tag = python_regex(r"([\p{L}\p{Z}\p{N}_.:/=+\-@]*)")
    assert tag.fullmatch("Café été 2026/x_y=z+@-") and tag.fullmatch("交通標識 ٣")
    assert not tag.fullmatch("a,b") and not tag.fullmatch('"x"')
    assert python_regex(r"\p{Print}+").fullmatch("abc ~") is not None
    assert python_regex(r"\p{Print}+").fullmatch("é") is None
    assert python_regex(r"[\P{L}]+").fullmatch("123 ,") is not None
    assert python_regex(r"[\P{L}]+").fullmatch("a") is None
    assert python_regex(r"[_\P{Alnum}]+").fullmatch("_é-") is not None
    assert python_regex(r"\P{Alnum}").fullmatch("a") is None
    assert python_regex(r"([a-z]*)${1,128}").fullmatch("abc") is not None


def test_response_shapes_can_be_checked_too() -> None:
    validate_response(
        "sagemaker",
        "CreateTrainingJob",
        {"TrainingJobArn": "arn:aws:sagemaker:us-east-1:123456789012:training-job/yolo-a-1"},
    )
    with pytest.raises(ModelValidationError, match="TrainingJobArn"):
        validate_response("sagemaker", "CreateTrainingJob", {})
