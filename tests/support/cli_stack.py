"""A deployed stack as the CLI sees it, in moto: a CloudFormation stack whose outputs name the
bucket and the uploads table and whose parameters carry the job settings; and the CLI run
as a separate process, the way a user runs it, against moto's server."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from typing import Any

from tests.support.helpers import ROOT
from tests.support.moto_eventbridge import enable_eventbridge
from tests.support.uploads_table import create_uploads_table

STACK = "yolo-test"
BUCKET = "yolo-test-datasets"
TABLE = "yolo-test-uploads"
# A stack narrower than the template's defaults: validate must judge with these.
ALLOWED = "ml.g5.xlarge,ml.m5.xlarge"

TEMPLATE = {
    "Parameters": {
        "DefaultInstanceType": {"Type": "String", "Default": "ml.g5.xlarge"},
        "AllowedInstanceTypes": {"Type": "String", "Default": ALLOWED},
        "JobNamePrefix": {"Type": "String", "Default": "yolo"},
        "MonthlyBudgetUSD": {"Type": "String", "Default": "50"},
    },
    "Resources": {
        "DatasetBucket": {"Type": "AWS::S3::Bucket", "Properties": {"BucketName": BUCKET}},
    },
    "Outputs": {
        "DatasetBucketName": {"Value": {"Ref": "DatasetBucket"}},
        "UploadsTableName": {"Value": TABLE},
    },
}


@dataclass(frozen=True)
class CliResult:
    code: int
    out: str
    err: str


def deploy_test_stack(cloudformation: Any, s3: Any, dynamodb: Any) -> None:
    cloudformation.create_stack(StackName=STACK, TemplateBody=json.dumps(TEMPLATE))
    enable_eventbridge(s3, BUCKET)
    create_uploads_table(dynamodb, TABLE)


def cli_env(endpoint: str, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "YOLO_STACK"))}
    env.update(
        AWS_ENDPOINT_URL=endpoint,
        AWS_ACCESS_KEY_ID="testing",
        AWS_SECRET_ACCESS_KEY="testing",
        AWS_REGION="us-east-1",
        AWS_EC2_METADATA_DISABLED="true",
        PYTHONPATH=str(ROOT / "functions"),
    )
    env.update(extra)
    return env


CLI = "import sys; from yolo_pipeline.cli.main import main; sys.exit(main())"


def start_cli(args: list[str], env: dict[str, str]) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-c", CLI, *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        cwd=ROOT,
    )


def run_cli(args: list[str], env: dict[str, str], timeout: float = 240) -> CliResult:
    proc = start_cli(args, env)
    out, err = proc.communicate(timeout=timeout)
    return CliResult(proc.returncode, out, err)
