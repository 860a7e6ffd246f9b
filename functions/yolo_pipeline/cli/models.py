"""``yolo-pipeline models [DATASET]``: the registered model versions, with their metrics and
approval status.

Every Completed job is registered by the notifier in the dataset's model package group
``<prefix>-<dataset slug>``; its CustomerMetadataProperties carry the job name, the
dataset URI and the final (best.pt) metrics. Without DATASET every group of this
pipeline (``<prefix>-*``) is listed.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from typing import Any, TextIO

from botocore.exceptions import BotoCoreError, ClientError

from yolo_pipeline.aws import clients as aws
from yolo_pipeline.aws.errors import error_code
from yolo_pipeline.cli.arguments import int_in_range
from yolo_pipeline.cli.stack import add_aws_options, open_stack
from yolo_pipeline.deployer.requests import endpoint_name, version_of
from yolo_pipeline.errors import EXIT_OK, AwsProblem
from yolo_pipeline.names import named_dataset
from yolo_pipeline.notifier.registry import (
    RegisteredModel,
    group_name,
    list_packages,
    registered_model,
)
from yolo_pipeline.text import clean
from yolo_pipeline.training.metric_line import headline_label, headline_metric

DEFAULT_LIMIT = 10


def _num(value: float | None) -> str:
    return "-" if value is None else f"{value:.3f}"


def headline(model: RegisteredModel) -> tuple[str, float | None]:
    """The task's headline metric (mask mAP for segment, pose mAP for pose, top-1 for
    classify, ...), as the emails and `status` show it."""
    name = headline_metric(model.task or "detect")
    return headline_label(name), model.metrics.get(name)


def model_dict(model: RegisteredModel) -> dict[str, Any]:
    label, value = headline(model)
    return {
        "group": model.group,
        "version": model.version,
        "arn": model.arn,
        "registered": model.created.isoformat() if model.created else None,
        "approval": model.approval,
        "job_name": model.job_name,
        "task": model.task or None,
        "headline": {"name": label, "value": value},
        "metrics": model.metrics,
    }


def format_group(
    group: str, models: list[RegisteredModel], serving: tuple[str, int | None] | None = None
) -> str:
    """One group as a fixed-width table, newest version first, each version's ARN under it,
    the version its endpoint serves marked (pure). ``serving``: (endpoint status, version)."""
    header = ("VERSION", "REGISTERED (UTC)", "APPROVAL", "TASK", "HEADLINE", "JOB")
    live = serving[1] if serving else None
    cells = [
        (
            f"{m.version or '-'}{' *' if live is not None and m.version == live else ''}",
            m.created.strftime("%Y-%m-%d %H:%M") if m.created else "-",
            m.approval or "-",
            m.task or "-",
            f"{headline(m)[0]} {_num(headline(m)[1])}",
            clean(m.job_name, 80) or "-",
        )
        for m in models
    ]
    widths = [max(len(c[i]) for c in [header, *cells]) for i in range(len(header))]
    lines = [f"{group}:"]
    lines.append("  " + "  ".join(c.ljust(w) for c, w in zip(header, widths, strict=True)))
    for model, row in zip(models, cells, strict=True):
        lines.append("  " + "  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)))
        lines.append(f"    arn: {clean(model.arn, 300)}")
    if not models:
        lines.append("  (no versions)")
    if serving:
        status, version = serving
        which = f"version {version}" if version is not None else "a version"
        lines.append(f"  * endpoint {endpoint_name(group)} serves {which} ({status})")
    return "\n".join(line.rstrip() for line in lines)


def endpoint_serving(sagemaker: Any, group: str) -> tuple[str, int | None] | None:
    """(status, version) of the dataset's endpoint, None when it has none."""
    try:
        described = sagemaker.describe_endpoint(EndpointName=endpoint_name(group))
    except ClientError as exc:
        if error_code(exc) == "ValidationException":  # SageMaker: no such endpoint
            return None
        raise
    config = str(described.get("EndpointConfigName") or "")
    return str(described.get("EndpointStatus") or "-"), version_of(config)


def group_models(sagemaker: Any, group: str, limit: int) -> list[RegisteredModel]:
    summaries = list_packages(sagemaker, group, sleep=lambda _s: None)[:limit]
    return [
        registered_model(sagemaker.describe_model_package(ModelPackageName=s["ModelPackageArn"]))
        for s in summaries
    ]


def pipeline_groups(sagemaker: Any, prefix: str) -> list[str]:
    groups: list[str] = []
    paginator = sagemaker.get_paginator("list_model_package_groups")
    for page in paginator.paginate(NameContains=prefix, SortBy="Name", SortOrder="Ascending"):
        for summary in page.get("ModelPackageGroupSummaryList", []):
            name = str(summary["ModelPackageGroupName"])
            if name.startswith(f"{prefix}-"):
                groups.append(name)
    return groups


def show_models(
    dataset: str | None = None,
    *,
    prefix: str | None = None,
    limit: int = DEFAULT_LIMIT,
    out: TextIO | None = None,
    as_json: bool = False,
) -> int:
    """The ``models`` command; returns the exit code."""
    out = out or sys.stdout
    prefix = prefix or os.environ.get("JOB_NAME_PREFIX") or "yolo"
    sagemaker = aws.client("sagemaker")
    try:
        if dataset:
            groups = [group_name(prefix, named_dataset(dataset))]
        else:
            groups = pipeline_groups(sagemaker, prefix)
        found = {g: group_models(sagemaker, g, limit) for g in groups}
        serving = {g: endpoint_serving(sagemaker, g) for g, ms in found.items() if ms}
    except ClientError as exc:
        code = error_code(exc)
        if dataset and code == "ValidationException":  # SageMaker: the group does not exist
            found, serving = {}, {}
        else:
            raise AwsProblem(f"cannot read the model registry: {exc}") from exc
    except BotoCoreError as exc:
        raise AwsProblem(f"cannot read the model registry: {exc}") from exc
    if as_json:
        groups_json = {g: [model_dict(m) for m in ms] for g, ms in found.items()}
        live = {
            g: {"endpoint": endpoint_name(g), "status": sv[0], "version": sv[1]}
            for g, sv in serving.items()
            if sv
        }
        print(json.dumps({"groups": groups_json, "serving": live}, indent=2, default=str), file=out)
        return EXIT_OK
    if dataset and not any(found.values()):
        print(f"No registered models for dataset {dataset!r} ({groups[0]}).", file=out)
        return EXIT_OK
    tables = [format_group(g, models, serving.get(g)) for g, models in found.items()]
    if not tables:
        print(
            f"No model package groups named {prefix}-* in {aws.current_region()}: a model is "
            "registered when its training job completes.",
            file=out,
        )
        return EXIT_OK
    print("\n\n".join(tables), file=out)
    print(
        "\nApprove a version (it then serves from the dataset's endpoint): "
        "yolo-pipeline approve DATASET --version N",
        file=out,
    )
    return EXIT_OK


# The command line: arguments, then the call above.


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = subparsers.add_parser(
        "models",
        help="registered model versions, with metrics and approval status",
        description="List the model package groups of this pipeline (one per dataset) and "
        "their versions: registration date, approval status, mAP and training job.",
    )
    p.add_argument("dataset", metavar="DATASET", nargs="?", help="a dataset name or its s3:// URI")
    p.add_argument(
        "--limit", type=int_in_range(1), default=DEFAULT_LIMIT, help="versions per dataset"
    )
    p.add_argument("--prefix", help="job name prefix (default: the stack's JobNamePrefix)")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    add_aws_options(p)
    p.set_defaults(handler=run_models)


def run_models(args: argparse.Namespace) -> int:
    stack = open_stack(args)
    prefix = args.prefix or stack.job_prefix
    return show_models(args.dataset, prefix=prefix, limit=args.limit, as_json=args.json)
