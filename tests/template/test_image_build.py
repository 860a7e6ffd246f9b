"""The training-image CodeBuild project: environment, least-privilege role, buildspec, output."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path
from typing import Any

import yaml

from tests.support.helpers import ROOT
from tests.template.resolve import Resolver, as_list, role_statements
from tests.template.tooling import SAM_BIN, tool, tool_env
from yolo_pipeline.contract import (
    BUILD_PREFIX,
    OUTPUT_BUCKET,
    OUTPUT_BUILD_PROJECT,
    OUTPUT_REPOSITORY_URI,
)
from yolo_pipeline.imagebuild.context import BUILDSPEC, DOCKERFILE

Resources = dict[str, dict[str, Any]]
REPO_ARN = {"Fn::GetAtt": ["TrainingImageRepository", "Arn"]}
LOG_GROUP = "/aws/codebuild/${AWS::StackName}-training-image"
PUSH_ACTIONS = {
    "ecr:BatchCheckLayerAvailability",
    "ecr:BatchGetImage",
    "ecr:GetDownloadUrlForLayer",
    "ecr:InitiateLayerUpload",
    "ecr:UploadLayerPart",
    "ecr:CompleteLayerUpload",
    "ecr:PutImage",
    "ecr:DescribeImages",
}


def _sub(value: Any) -> Any:
    return value["Fn::Sub"] if isinstance(value, dict) and "Fn::Sub" in value else value


def test_project_builds_linux_amd64_privileged_with_a_layer_cache(resources: Resources) -> None:
    project = resources["TrainingImageBuild"]
    assert project["Type"] == "AWS::CodeBuild::Project"
    props = project["Properties"]
    env = props["Environment"]
    assert env["Type"] == "LINUX_CONTAINER"
    assert re.fullmatch(r"aws/codebuild/amazonlinux-x86_64-standard:\d+\.\d+", env["Image"])
    assert env["ComputeType"].startswith("BUILD_GENERAL1_")
    assert env["PrivilegedMode"] is True
    variables = {v["Name"]: v["Value"] for v in env["EnvironmentVariables"]}
    assert variables == {
        "REPOSITORY_URI": {"Fn::GetAtt": ["TrainingImageRepository", "RepositoryUri"]},
        "IMAGE_TAG": "latest",
        "INFERENCE_REPOSITORY_URI": {"Fn::GetAtt": ["InferenceImageRepository", "RepositoryUri"]},
    }
    assert props["Cache"] == {"Type": "LOCAL", "Modes": ["LOCAL_DOCKER_LAYER_CACHE"]}
    assert props["ServiceRole"] == {"Fn::GetAtt": ["TrainingImageBuildRole", "Arn"]}
    assert props["Artifacts"] == {"Type": "NO_ARTIFACTS"}
    assert props["LogsConfig"]["CloudWatchLogs"] == {
        "Status": "ENABLED",
        "GroupName": {"Ref": "TrainingImageBuildLogGroup"},
    }
    assert 0 < props["TimeoutInMinutes"] <= 120


def test_source_is_a_zip_under_the_build_prefix_and_names_the_repository_buildspec(
    resources: Resources,
) -> None:
    source = resources["TrainingImageBuild"]["Properties"]["Source"]
    assert source["Type"] == "S3"
    assert _sub(source["Location"]).startswith("${DatasetBucket}/" + BUILD_PREFIX)
    assert source["BuildSpec"] == BUILDSPEC
    assert (ROOT / BUILDSPEC).is_file()


def test_build_role_pushes_only_to_the_stacks_repository(resources: Resources) -> None:
    role = resources["TrainingImageBuildRole"]
    trust = role["Properties"]["AssumeRolePolicyDocument"]["Statement"]
    assert [s["Principal"] for s in trust] == [{"Service": "codebuild.amazonaws.com"}]
    assert trust[0]["Condition"] == {
        "StringEquals": {"aws:SourceAccount": {"Ref": "AWS::AccountId"}}
    }
    assert not role["Properties"].get("ManagedPolicyArns")
    actions: set[str] = set()
    for statement in role_statements(role):
        assert statement["Effect"] == "Allow"
        acts = as_list(statement["Action"])
        actions.update(acts)
        for action in acts:
            assert "*" not in action, action
        resources_ = [_sub(r) for r in as_list(statement["Resource"])]
        ecr = [a for a in acts if a.startswith("ecr:")]
        if ecr == ["ecr:GetAuthorizationToken"]:
            assert resources_ == ["*"]  # no resource-level permissions for the login
        elif ecr:
            assert set(ecr) == PUSH_ACTIONS
            assert resources_ == [REPO_ARN, {"Fn::GetAtt": ["InferenceImageRepository", "Arn"]}]
        if any(a.startswith("s3:") for a in acts):
            if "s3:GetObject" in acts:
                assert resources_ == ["${DatasetBucket.Arn}/" + BUILD_PREFIX + "*"]
                assert set(acts) == {"s3:GetObject", "s3:GetObjectVersion"}
            else:  # bucket metadata only, no objects
                assert set(acts) == {"s3:GetBucketAcl", "s3:GetBucketLocation"}
                assert resources_ == [{"Fn::GetAtt": ["DatasetBucket", "Arn"]}]
        if any(a.startswith("logs:") for a in acts):
            assert set(acts) == {"logs:CreateLogStream", "logs:PutLogEvents"}
            assert resources_ == [
                {"Fn::GetAtt": ["TrainingImageBuildLogGroup", "Arn"]},
                "${TrainingImageBuildLogGroup.Arn}:*",
            ]
    assert PUSH_ACTIONS | {"ecr:GetAuthorizationToken"} <= actions
    assert not {a for a in actions if a.startswith(("s3:Put", "s3:Delete", "iam:", "sagemaker:"))}


def test_build_logs_have_their_own_encrypted_group(resources: Resources) -> None:
    group = resources["TrainingImageBuildLogGroup"]["Properties"]
    assert group["LogGroupName"] == {"Fn::Sub": LOG_GROUP}
    assert group["KmsKeyId"] == {"Fn::GetAtt": ["NotificationKey", "Arn"]}
    assert group["RetentionInDays"] > 0
    # The key lets CloudWatch Logs encrypt this group (its ARN is the encryption context).
    statements = resources["NotificationKey"]["Properties"]["KeyPolicy"]["Statement"]
    (logs,) = [s for s in statements if s.get("Sid") == "CloudWatchLogsEncryptLogGroups"]
    (arns,) = logs["Condition"]["ArnLike"].values()
    allowed = [_sub(v) for v in as_list(arns)]
    assert any(a.endswith(":log-group:" + LOG_GROUP) for a in allowed)


def test_datasets_cannot_live_under_the_build_prefix(raw_template: dict[str, Any]) -> None:
    (assertion,) = raw_template["Rules"]["DatasetPrefixIsNotTheBuildPrefix"]["Assertions"]
    assert assertion["Assert"] == {
        "Fn::Not": [{"Fn::Equals": [{"Ref": "DatasetPrefix"}, BUILD_PREFIX]}]
    }


def test_build_sources_expire(resources: Resources) -> None:
    rules = resources["DatasetBucket"]["Properties"]["LifecycleConfiguration"]["Rules"]
    (rule,) = [r for r in rules if r.get("Prefix") == BUILD_PREFIX]
    assert rule["Status"] == "Enabled" and 0 < rule["ExpirationInDays"] <= 30


def test_outputs_name_the_project_the_bucket_and_the_repository(rendered: dict[str, Any]) -> None:
    template = rendered["transformed"]
    outputs = template["Outputs"]
    assert outputs[OUTPUT_BUILD_PROJECT]["Value"] == {"Ref": "TrainingImageBuild"}
    assert outputs[OUTPUT_BUCKET]["Value"] == {"Ref": "DatasetBucket"}
    assert outputs[OUTPUT_REPOSITORY_URI]["Value"] == {
        "Fn::GetAtt": ["TrainingImageRepository", "RepositoryUri"]
    }
    resolver = Resolver(template)
    name = resolver.resolve(template["Resources"]["TrainingImageBuild"]["Properties"]["Name"])
    assert name == "yolo-on-upload-training-image"


def test_buildspec_builds_the_dockerfile_with_the_local_flags() -> None:
    spec = yaml.safe_load((ROOT / BUILDSPEC).read_text(encoding="utf-8"))
    assert spec["version"] == 0.2
    commands = " ".join(
        " ".join(phase["commands"]) for phase in spec["phases"].values() if "commands" in phase
    )
    assert "docker login --username AWS --password-stdin" in commands
    build = " ".join(spec["phases"]["build"]["commands"])
    for flag in (
        "--platform linux/amd64",
        "--provenance=false",
        "--sbom=false",
        "push=true",
        "oci-mediatypes=false",
        f"-f {DOCKERFILE} .",
        "$REPOSITORY_URI:$IMAGE_TAG",
    ):
        assert flag in build, flag
    # The same flags as `make image LOCAL=1` (the Makefile's local docker path).
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    for flag in ("--platform linux/amd64", "--provenance=false", "--sbom=false"):
        assert flag in makefile, flag
    post = " ".join(spec["phases"]["post_build"]["commands"])
    assert "describe-images" in post and "IMAGE_DIGEST=" in post


def test_make_image_runs_with_the_sam_tools_python_alone() -> None:
    """`make image` (no LOCAL) runs the command with .venv-sam's Python: boto3, no more."""
    python = tool(SAM_BIN, "python")
    env = tool_env() | {"PYTHONPATH": str(ROOT / "functions")}
    result = subprocess.run(
        [str(python), "-m", "yolo_pipeline.cli.image", "--help"],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert "--stack-name" in result.stdout and "--tag" in result.stdout
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    assert "$(SAM_VENV)/bin/python -m yolo_pipeline.cli.image" in makefile


STUB_AWS = """#!/bin/sh
case "$*" in
  *TrainingImageRepositoryUri*) echo 123456789012.dkr.ecr.r.amazonaws.com/train ;;
  *InferenceImageRepositoryUri*) echo "${INFERENCE_REPO:-None}" ;;
  *get-login-password*) echo password ;;
esac
"""


def _make_image_local(tmp_path: Path, **env: str) -> subprocess.CompletedProcess[str]:
    """`make image LOCAL=1` with stand-ins for the AWS CLI and Docker that log their calls."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir(exist_ok=True)
    (bin_dir / "aws").write_text(STUB_AWS, encoding="utf-8")
    (bin_dir / "docker").write_text('#!/bin/sh\necho "docker $*" >&2\n', encoding="utf-8")
    for stub in bin_dir.iterdir():
        stub.chmod(0o755)
    return subprocess.run(
        ["make", "--no-print-directory", "image", "LOCAL=1", "STACK_NAME=s", "AWS_REGION=r",
         "IMAGE_TAG=t"],
        cwd=ROOT, capture_output=True, text=True, timeout=60, check=False,
        env={"PATH": f"{bin_dir}:/usr/bin:/bin", **env},
    )  # fmt: skip


def test_make_image_local_builds_and_pushes_both_images(tmp_path: Path) -> None:
    inference = "123456789012.dkr.ecr.r.amazonaws.com/infer"
    result = _make_image_local(tmp_path, INFERENCE_REPO=inference)
    assert result.returncode == 0, result.stderr
    builds = [line for line in result.stderr.splitlines() if "buildx build" in line]
    assert len(builds) == 2, result.stderr
    assert "train:t," in builds[0] and "-f training_image/Dockerfile ." in builds[0]
    assert f"{inference}:t," in builds[1] and "-f inference_image/Dockerfile ." in builds[1]
    assert result.stdout.splitlines() == [
        "pushed 123456789012.dkr.ecr.r.amazonaws.com/train:t",
        f"pushed {inference}:t",
    ]
    # A stack that predates the inference repository: the training image, then a clear stop.
    older = _make_image_local(tmp_path)
    assert older.returncode != 0
    assert "has no InferenceImageRepositoryUri output: make deploy first" in older.stderr
