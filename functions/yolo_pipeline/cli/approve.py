"""``yolo-pipeline approve DATASET [--version N]``: approve a registered model version (the
newest by default), and say what follows: the deployer creates or updates the dataset's
endpoint and emails when it serves."""

from __future__ import annotations

import argparse
import sys
from typing import Any, TextIO

from botocore.exceptions import BotoCoreError, ClientError

from yolo_pipeline.aws import clients as aws
from yolo_pipeline.aws.errors import error_code
from yolo_pipeline.cli.stack import access_problem, add_aws_options, open_stack
from yolo_pipeline.contract import DATASET_PREFIX
from yolo_pipeline.deployer.requests import endpoint_name
from yolo_pipeline.errors import EXIT_INVALID, EXIT_OK
from yolo_pipeline.names import named_dataset
from yolo_pipeline.notifier.registry import group_name, list_packages

APPROVAL_NOTE = "approved with yolo-pipeline approve"


def dataset_group(dataset: str, prefix: str, dataset_prefix: str = DATASET_PREFIX) -> str:
    """The model package group of a dataset given by name (``team/cats``, ``cats.zip``) or
    location (``s3://bucket/datasets/team/cats/``, ``datasets/cats.zip``) (pure).

    A bare name is read as a key below the dataset prefix, so a nested name keeps its folders
    and a zip's name loses ``.zip``, exactly as the notifier named the group.
    """
    return group_name(prefix, named_dataset(dataset, dataset_prefix))


def choose(summaries: list[dict[str, Any]], version: int | None) -> dict[str, Any] | None:
    """The summary of ``version``, or the newest when None (summaries: newest first)."""
    if version is None:
        return summaries[0] if summaries else None
    return next((s for s in summaries if s.get("ModelPackageVersion") == version), None)


def endpoint_state(sagemaker: Any, endpoint: str) -> str:
    """The endpoint's status, or "" when there is none yet."""
    try:
        return str(sagemaker.describe_endpoint(EndpointName=endpoint)["EndpointStatus"])
    except ClientError as exc:
        if error_code(exc) == "ValidationException":
            return ""
        raise


def approve(
    dataset: str, version: int | None, *, prefix: str, dataset_prefix: str, out: TextIO
) -> int:
    sagemaker = aws.client("sagemaker")
    group = dataset_group(dataset, prefix, dataset_prefix)
    try:
        summaries = list_packages(sagemaker, group, sleep=lambda _s: None)
    except ClientError as exc:
        if error_code(exc) != "ValidationException":
            raise
        summaries = []
    chosen = choose(summaries, version)
    if chosen is None:
        which = f"version {version}" if version is not None else "any version"
        print(f"{group} has no {which}: see `yolo-pipeline models {dataset}`.", file=out)
        return EXIT_INVALID
    number, arn = chosen.get("ModelPackageVersion"), str(chosen["ModelPackageArn"])
    endpoint = endpoint_name(group)
    if chosen.get("ModelApprovalStatus") == "Approved":
        print(f"Version {number} of {group} is already approved.", file=out)
    else:
        sagemaker.update_model_package(
            ModelPackageArn=arn, ModelApprovalStatus="Approved", ApprovalDescription=APPROVAL_NOTE
        )
        print(f"Approved version {number} of {group} ({arn}).", file=out)
    state = endpoint_state(sagemaker, endpoint)
    action = (
        f"updates endpoint {endpoint} in place ({state} now; the version serving now goes on "
        "until the new one is healthy)"
        if state
        else f"creates endpoint {endpoint}"
    )
    print(
        f"The deployer {action}, unless the stack's DeployOnApproval is off; an email follows "
        f"when it serves (serverless endpoints take a few minutes).\n"
        f"Then: yolo-pipeline predict {dataset} IMAGE.jpg",
        file=out,
    )
    return EXIT_OK


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = subparsers.add_parser(
        "approve",
        help="approve a model version: it then serves on the dataset's endpoint",
        description="Set a registered model version (the newest by default) to Approved. The "
        "stack's deployer then creates or updates the endpoint <prefix>-<dataset slug> and "
        "emails when it serves.",
    )
    p.add_argument(
        "dataset", metavar="DATASET",
        help="a dataset name (team/cats, cats.zip) or its s3:// URI or key",
    )  # fmt: skip
    p.add_argument("--version", type=int, help="the version to approve (default: the newest)")
    p.add_argument("--prefix", help="job name prefix (default: the stack's JobNamePrefix)")
    add_aws_options(p)
    p.set_defaults(handler=run_approve)


def run_approve(args: argparse.Namespace, out: TextIO | None = None) -> int:
    stack = open_stack(args)
    prefix = args.prefix or stack.job_prefix
    try:
        return approve(
            args.dataset, args.version, prefix=prefix, dataset_prefix=stack.dataset_prefix,
            out=out or sys.stdout,
        )  # fmt: skip
    except (ClientError, BotoCoreError) as exc:
        raise access_problem("approve the model version", exc) from exc
