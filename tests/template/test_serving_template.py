"""The serving half of the template: the deployer function, its rules and permissions, the
model role and the inference image's repository."""

from __future__ import annotations

from typing import Any

import pytest

from tests.template.resolve import Resolver
from tests.template.test_policies import (
    DLQ_ARN,
    Resources,
    as_list,
    env_of,
    role_statements,
    statements_with,
)
from yolo_pipeline.deployer.settings import SERVERLESS_MEMORY_STEPS, DeployerSettings

pytestmark = pytest.mark.template

ARN = "arn:${AWS::Partition}:sagemaker:${AWS::Region}:${AWS::AccountId}"
MODEL_ROLE = {"Fn::GetAtt": ["SageMakerModelRole", "Arn"]}


def test_the_deployer_handler_and_its_retries(resources: Resources) -> None:
    props = resources["DeployModelFunction"]["Properties"]
    assert props["Handler"] == "deploy_model.lambda_handler"
    (config,) = [
        r["Properties"]
        for r in resources.values()
        if r["Type"] == "AWS::Lambda::EventInvokeConfig"
        and r["Properties"]["FunctionName"] == {"Ref": "DeployModelFunction"}
    ]
    assert config["DestinationConfig"]["OnFailure"]["Destination"] == DLQ_ARN


def test_event_patterns_are_this_stacks_approvals_and_endpoint_outcomes(
    resources: Resources,
) -> None:
    approved = resources["DeployModelFunctionModelApproved"]["Properties"]
    assert approved["EventPattern"] == {
        "source": ["aws.sagemaker"],
        "detail-type": ["SageMaker Model Package State Change"],
        "detail": {
            "ModelPackageGroupName": [{"prefix": {"Fn::Sub": "${JobNamePrefix}-"}}],
            "ModelApprovalStatus": ["Approved"],
        },
    }
    changed = resources["DeployModelFunctionEndpointChanged"]["Properties"]
    assert changed["EventPattern"] == {
        "source": ["aws.sagemaker"],
        "detail-type": ["SageMaker Endpoint State Change"],
        "detail": {
            "EndpointName": [{"prefix": {"Fn::Sub": "${JobNamePrefix}-"}}],
            "EndpointStatus": ["IN_SERVICE", "FAILED"],
        },
    }
    for rule in (approved, changed):
        (target,) = rule["Targets"]
        assert target["Arn"] == {"Fn::GetAtt": ["DeployModelFunction", "Arn"]}
        assert target["DeadLetterConfig"] == {"Arn": DLQ_ARN}


def test_deployer_permissions_are_scoped_to_the_stacks_names(resources: Resources) -> None:
    (deploy,) = statements_with(resources, "DeployModelFunction", "sagemaker:CreateEndpoint")
    assert deploy["Resource"] == [
        {"Fn::Sub": f"{ARN}:model/${{JobNamePrefix}}-*"},
        {"Fn::Sub": f"{ARN}:endpoint-config/${{JobNamePrefix}}-*"},
        {"Fn::Sub": f"{ARN}:endpoint/${{JobNamePrefix}}-*"},
    ]
    assert "sagemaker:UpdateEndpoint" in as_list(deploy["Action"])
    (describe,) = statements_with(
        resources, "DeployModelFunction", "sagemaker:DescribeModelPackage"
    )
    assert describe["Resource"] == {"Fn::Sub": f"{ARN}:model-package/${{JobNamePrefix}}-*/*"}
    (passes,) = statements_with(resources, "DeployModelFunction", "iam:PassRole")
    assert passes["Resource"] == MODEL_ROLE
    assert passes["Condition"] == {
        "StringEquals": {"iam:PassedToService": "sagemaker.amazonaws.com"}
    }
    assert not statements_with(resources, "DeployModelFunction", "sagemaker:CreateTrainingJob")
    assert not statements_with(resources, "DeployModelFunction", "s3:GetObject")
    # The image guard reads the stack's inference repository, nothing else of ECR.
    (guard,) = statements_with(resources, "DeployModelFunction", "ecr:DescribeImages")
    assert as_list(guard["Action"]) == ["ecr:DescribeImages"]
    assert guard["Resource"] == {"Fn::GetAtt": ["InferenceImageRepository", "Arn"]}


def test_the_model_role_reads_model_archives_and_pulls_the_inference_image(
    resources: Resources,
) -> None:
    role = resources["SageMakerModelRole"]
    (trust,) = role["Properties"]["AssumeRolePolicyDocument"]["Statement"]
    assert trust["Principal"] == {"Service": "sagemaker.amazonaws.com"}
    assert trust["Condition"] == {"StringEquals": {"aws:SourceAccount": {"Ref": "AWS::AccountId"}}}
    statements = {s["Sid"]: s for s in role_statements(role)}
    assert statements["ReadModelArchives"]["Resource"] == {
        "Fn::Sub": "${DatasetBucket.Arn}/models/*/output/model.tar.gz"
    }
    assert statements["PullInferenceImage"]["Resource"] == {
        "Fn::GetAtt": ["InferenceImageRepository", "Arn"]
    }
    assert not any("s3:PutObject" in as_list(s["Action"]) for s in statements.values())


@pytest.mark.parametrize(
    "overrides",
    [
        {},
        {
            "DeployOnApproval": "false",
            "ServerlessMemoryMB": "6144",
            "ServerlessMaxConcurrency": "200",
            "EndpointInstanceType": "ml.m5.large",
            "JobNamePrefix": "shapes-2",
        },
    ],
)
def test_deployed_env_parses_with_the_real_settings(
    rendered: dict[str, Any], overrides: dict[str, str]
) -> None:
    template = rendered["transformed"]
    resolver = Resolver(template, overrides)
    env = {
        k: str(v)
        for k, v in resolver.resolve(env_of(template["Resources"], "DeployModelFunction")).items()
    }
    settings = DeployerSettings.from_env(env)
    repository = resolver.get_att("InferenceImageRepository", "RepositoryUri")
    assert settings.inference_image_uri == f"{repository}:latest"
    assert settings.role_arn == resolver.get_att("SageMakerModelRole", "Arn")
    assert settings.job_name_prefix == resolver.params["JobNamePrefix"]
    assert settings.deploy_on_approval is (resolver.params["DeployOnApproval"] == "true")
    assert settings.serverless_memory_mb == int(resolver.params["ServerlessMemoryMB"])
    assert settings.instance_type == resolver.params["EndpointInstanceType"]


def test_parameters_agree_with_the_deployer_settings(raw_template: dict[str, Any]) -> None:
    params = raw_template["Parameters"]
    assert tuple(params["ServerlessMemoryMB"]["AllowedValues"]) == SERVERLESS_MEMORY_STEPS
    assert (params["ServerlessMaxConcurrency"]["MinValue"], 200) == (1, params[
        "ServerlessMaxConcurrency"]["MaxValue"])  # fmt: skip
    assert params["DeployOnApproval"]["AllowedValues"] == ["true", "false"]
