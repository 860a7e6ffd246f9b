"""Which AWS account, region and stack a command talks to, and what the stack says.

Every command that talks to AWS takes ``--stack-name`` (else ``$YOLO_STACK_NAME``, else
``yolo-on-upload``), ``--profile`` and ``--region``. The stack's CloudFormation outputs name
its resources (bucket, uploads table, topic, queue, repository) and its parameters carry the
settings the launcher checks training.yaml against, so the user never pastes a bucket name
and ``validate`` judges exactly as the deployed launcher does. Explicit flags still win.
"""

from __future__ import annotations

import argparse
import os
from dataclasses import dataclass, field
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError, ProfileNotFound

from yolo_pipeline.aws import clients as aws
from yolo_pipeline.aws.errors import error_code, error_summary
from yolo_pipeline.contract import DATASET_PREFIX, OUTPUT_BUCKET, OUTPUT_UPLOADS_TABLE
from yolo_pipeline.errors import AwsProblem
from yolo_pipeline.text import quote
from yolo_pipeline.training.config import SageMakerDefaults

DEFAULT_STACK = "yolo-on-upload"
ENV_STACK = "YOLO_STACK_NAME"
DEFAULT_JOB_PREFIX = "yolo"
# The template's parameters that steer a job; read back so the CLI checks as the launcher does.
PARAM_INSTANCE_TYPE = "DefaultInstanceType"
PARAM_ALLOWED = "AllowedInstanceTypes"
PARAM_SPOT = "UseSpot"
PARAM_RUNTIME_HOURS = "MaxRuntimeHours"
PARAM_VOLUME = "VolumeSizeGB"
PARAM_INPUT_MODE = "InputMode"
PARAM_JOB_PREFIX = "JobNamePrefix"
PARAM_DATASET_PREFIX = "DatasetPrefix"
PARAM_BUDGET = "MonthlyBudgetUSD"


def add_aws_options(parser: argparse.ArgumentParser, *, stack: bool = True) -> None:
    """``--stack-name``, ``--profile`` and ``--region`` on a command that talks to AWS."""
    if stack:
        parser.add_argument(
            "--stack-name",
            help=f"the deployed stack (default ${ENV_STACK}, else {DEFAULT_STACK}); its "
            "outputs name the bucket and the rest",
        )
    parser.add_argument("--profile", help="AWS profile (default: your AWS config)")
    parser.add_argument("--region", help="AWS region of the stack (default: your AWS config)")


def stack_name(args: argparse.Namespace) -> str:
    return getattr(args, "stack_name", None) or os.environ.get(ENV_STACK) or DEFAULT_STACK


def use_aws(args: argparse.Namespace) -> str:
    """Point every client at the profile and region asked for; returns the region.

    A missing region is a setup problem with a one-line fix, never botocore's traceback.
    """
    profile = getattr(args, "profile", None)
    region = getattr(args, "region", None)
    try:
        if profile:
            boto3.setup_default_session(profile_name=profile, region_name=region)
        session = boto3.DEFAULT_SESSION or boto3.Session(region_name=region)
    except ProfileNotFound as exc:
        raise AwsProblem(f"{exc}: check `aws configure list-profiles`") from exc
    # The profile's region wins over the environment's, unless --region says otherwise.
    chosen = region or (session.region_name if profile else None) or aws.current_region("")
    chosen = chosen or session.region_name or ""
    if not chosen:
        raise AwsProblem(
            "no AWS region: pass --region, set AWS_REGION, or run `aws configure set region "
            "<region>` (the region the stack is deployed to)"
        )
    os.environ["AWS_REGION"] = os.environ["AWS_DEFAULT_REGION"] = chosen
    aws.reset_clients()
    return chosen


def access_problem(what: str, exc: ClientError | BotoCoreError) -> AwsProblem:
    """An AWS failure as the user's setup to fix (exit 2), with the AWS code kept."""
    return AwsProblem(
        f"cannot {what}: {error_summary(exc)}\n"
        "Check your AWS credentials (--profile), the region (--region) and the stack "
        "(--stack-name)."
    )


@dataclass(frozen=True)
class Stack:
    """The deployed stack's outputs and parameters (empty when it could not be read)."""

    name: str
    region: str
    outputs: dict[str, str] = field(default_factory=dict)
    parameters: dict[str, str] = field(default_factory=dict)
    found: bool = False
    why_not: str = ""

    def require(self, output: str, flag: str = "") -> str:
        """An output the command cannot do without; an AwsProblem says how to get it."""
        value = self.outputs.get(output)
        if value:
            return value
        instead = f", or pass {flag}" if flag else ""
        reason = self.why_not or f"it has no output {output}: redeploy it (make deploy)"
        raise AwsProblem(
            f"stack {quote(self.name)} in {self.region} gives no {output}: {reason}"
            f"{instead}. Pick the stack with --stack-name or ${ENV_STACK}."
        )

    @property
    def bucket(self) -> str:
        return self.outputs.get(OUTPUT_BUCKET, "")

    @property
    def uploads_table(self) -> str:
        return self.outputs.get(OUTPUT_UPLOADS_TABLE, "")

    @property
    def job_prefix(self) -> str:
        return (
            self.parameters.get(PARAM_JOB_PREFIX)
            or os.environ.get("JOB_NAME_PREFIX")
            or DEFAULT_JOB_PREFIX
        )

    @property
    def dataset_prefix(self) -> str:
        return self.parameters.get(PARAM_DATASET_PREFIX) or DATASET_PREFIX

    @property
    def monthly_budget(self) -> float | None:
        """The stack's monthly budget in USD; None when unset, zero (off) or unreadable."""
        try:
            value = float(self.parameters.get(PARAM_BUDGET, "") or 0)
        except ValueError:
            return None
        return value if value > 0 else None

    @property
    def sagemaker_defaults(self) -> SageMakerDefaults:
        """The launcher's bounds for training.yaml: the stack's, else the template's defaults."""
        return sagemaker_defaults(self.parameters)


def sagemaker_defaults(parameters: dict[str, str]) -> SageMakerDefaults:
    """``SageMakerDefaults`` from the stack's parameters; a missing or odd one keeps the
    template's default (pure)."""
    base = SageMakerDefaults()
    allowed = (
        tuple(t.strip() for t in parameters.get(PARAM_ALLOWED, "").split(",") if t.strip())
        or base.allowed_instance_types
    )
    try:
        hours = float(parameters.get(PARAM_RUNTIME_HOURS) or base.max_runtime_seconds / 3600)
        volume = int(parameters.get(PARAM_VOLUME) or base.volume_size_gb)
    except ValueError:
        hours, volume = base.max_runtime_seconds / 3600, base.volume_size_gb
    mode = parameters.get(PARAM_INPUT_MODE) or base.input_mode
    return SageMakerDefaults(
        instance_type=parameters.get(PARAM_INSTANCE_TYPE) or base.instance_type,
        allowed_instance_types=allowed,
        use_spot=(parameters.get(PARAM_SPOT) or "true").lower() == "true",
        max_runtime_seconds=round(hours * 3600),
        volume_size_gb=volume,
        input_mode=mode if mode in ("File", "FastFile") else base.input_mode,
    )


def describe_stack(cloudformation: Any, name: str, region: str) -> Stack:
    """The stack's outputs and parameters; a missing stack is ``found=False``, not an error."""
    try:
        stacks = cloudformation.describe_stacks(StackName=name).get("Stacks") or []
    except ClientError as exc:
        if error_code(exc) == "ValidationError":  # CloudFormation: "Stack ... does not exist"
            why = f"no stack of that name in {region} (deploy it with make deploy)"
            return Stack(name, region, why_not=why)
        raise access_problem(f"read stack {quote(name)}", exc) from exc
    except BotoCoreError as exc:
        raise access_problem(f"read stack {quote(name)}", exc) from exc
    if not stacks:
        return Stack(name, region, why_not=f"no stack of that name in {region}")
    outputs = {
        str(o.get("OutputKey")): str(o.get("OutputValue", ""))
        for o in stacks[0].get("Outputs") or []
    }
    parameters = {
        str(p.get("ParameterKey")): str(p.get("ParameterValue", ""))
        for p in stacks[0].get("Parameters") or []
    }
    return Stack(name, region, outputs, parameters, found=True)


# Reading the stack where a command can do without it (an explicit URI, the defaults): one
# quick try, no retries, so an offline machine or a missing permission holds nothing up.
PROBE = Config(retries={"max_attempts": 1, "mode": "standard"}, connect_timeout=3, read_timeout=5)


def try_stack(args: argparse.Namespace) -> Stack:
    """The stack if it can be read quickly; else ``found=False`` with the reason."""
    name = stack_name(args)
    try:
        region = use_aws(args)
    except AwsProblem as exc:
        return Stack(name, aws.current_region(""), why_not=str(exc).splitlines()[0])
    try:
        cloudformation = boto3.client("cloudformation", region_name=region, config=PROBE)
        return describe_stack(cloudformation, name, region)
    except (AwsProblem, BotoCoreError, ClientError) as exc:
        return Stack(name, region, why_not=f"not read: {str(exc).splitlines()[0][:200]}")


def open_stack(args: argparse.Namespace) -> Stack:
    """Apply --profile/--region, then read the stack named by the arguments."""
    region = use_aws(args)
    return describe_stack(aws.client("cloudformation"), stack_name(args), region)
