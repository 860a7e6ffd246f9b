"""``yolo-pipeline status``: this pipeline's recent training jobs and where they are.

Jobs are found by name prefix (every job the launcher starts is named ``<prefix>-...``);
ListTrainingJobs' ``NameContains`` narrows the search server-side and a ``startswith``
check drops other jobs that merely contain the prefix. Each job is then described for its
secondary status, timings and final metrics, and its dataset comes from the
``yolo:dataset-uri`` tag (or, for a job without it, the input channel's S3 URI).
"""

from __future__ import annotations

import argparse
import os
import sys
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TextIO

from botocore.exceptions import BotoCoreError, ClientError

from yolo_pipeline.aws import clients as aws
from yolo_pipeline.cli.arguments import int_in_range
from yolo_pipeline.contract import TAG_DATASET_URI
from yolo_pipeline.errors import EXIT_OK, AwsProblem
from yolo_pipeline.text import duration_column
from yolo_pipeline.training.metric_line import headline_metric, second_metric, task_of

DEFAULT_LIMIT = 10


@dataclass(frozen=True)
class JobRow:
    name: str
    status: str
    secondary: str
    created: datetime | None
    duration_s: float | None
    map50_95: float | None
    map50: float | None
    dataset: str
    failure: str = ""
    task: str = "detect"  # its mAP columns are the task's headline kind (mask, pose, box)


def _final_metric(described: dict[str, Any], name: str) -> float | None:
    for metric in described.get("FinalMetricDataList") or []:
        if metric.get("MetricName") == name and metric.get("Value") is not None:
            return float(metric["Value"])
    return None


def _dataset_uri(described: dict[str, Any], tags: list[dict[str, str]]) -> str:
    for tag in tags:
        if tag.get("Key") == TAG_DATASET_URI:
            return tag.get("Value", "")
    for channel in described.get("InputDataConfig") or []:
        uri = channel.get("DataSource", {}).get("S3DataSource", {}).get("S3Uri")
        if uri:
            return str(uri)
    return "-"


def job_row(
    described: dict[str, Any], tags: list[dict[str, str]], now: datetime | None = None
) -> JobRow:
    """One table row from a DescribeTrainingJob response and the job's tags (pure)."""
    status = str(described.get("TrainingJobStatus", "?"))
    start = described.get("TrainingStartTime")
    end = described.get("TrainingEndTime")
    created = described.get("CreationTime")
    duration: float | None = None
    if described.get("TrainingTimeInSeconds") is not None and end is not None:
        duration = float(described["TrainingTimeInSeconds"])
    elif start is not None:  # still running: time since the instance started
        duration = ((end or now or datetime.now(UTC)) - start).total_seconds()
    task = task_of(described.get("HyperParameters"))  # the task's headline
    headline = headline_metric(task)
    return JobRow(
        name=str(described.get("TrainingJobName", "?")),
        status=status,
        secondary=str(described.get("SecondaryStatus", "")),
        created=created,
        duration_s=duration,
        map50_95=_final_metric(described, headline),
        map50=_final_metric(described, second_metric(task)),
        dataset=_dataset_uri(described, tags),
        failure=str(described.get("FailureReason", "")),
        task=task,
    )


def _num(value: float | None) -> str:
    return "-" if value is None else f"{value:.3f}"


def format_table(rows: list[JobRow]) -> str:
    """A fixed-width table, newest first, with failure reasons under their job. The mAP
    columns are each job's headline: mask for segment, pose for pose, box otherwise."""
    header = (
        "JOB",
        "STATUS",
        "SECONDARY",
        "CREATED (UTC)",
        "DURATION",
        "mAP50-95",
        "mAP50",
        "TASK",
    )
    cells = [
        (
            r.name,
            r.status,
            r.secondary or "-",
            r.created.astimezone(UTC).strftime("%Y-%m-%d %H:%M") if r.created else "-",
            duration_column(r.duration_s),
            _num(r.map50_95),
            _num(r.map50),
            r.task,
        )
        for r in rows
    ]
    widths = [max(len(str(c[i])) for c in [header, *cells]) for i in range(len(header))]
    lines = ["  ".join(h.ljust(w) for h, w in zip(header, widths, strict=True)).rstrip()]
    for row, line in zip(rows, cells, strict=True):
        lines.append("  ".join(c.ljust(w) for c, w in zip(line, widths, strict=True)).rstrip())
        lines.append(f"    dataset: {row.dataset}")
        if row.failure:
            lines.append(f"    reason:  {row.failure[:300]}")
    return "\n".join(lines)


def list_jobs(sagemaker: Any, prefix: str, limit: int) -> list[JobRow]:
    """The ``limit`` newest jobs whose name starts with ``<prefix>-``, described."""
    summaries: list[dict[str, Any]] = []
    paginator = sagemaker.get_paginator("list_training_jobs")
    pages = paginator.paginate(NameContains=prefix, SortBy="CreationTime", SortOrder="Descending")
    for page in pages:
        for summary in page.get("TrainingJobSummaries", []):
            if summary["TrainingJobName"].startswith(f"{prefix}-"):
                summaries.append(summary)
        if len(summaries) >= limit:  # pages arrive newest first: no need to read further
            break
    summaries.sort(key=lambda s: s["CreationTime"], reverse=True)  # stable across pages
    rows = []
    for name in [s["TrainingJobName"] for s in summaries[:limit]]:
        described = sagemaker.describe_training_job(TrainingJobName=name)
        try:
            tags = sagemaker.list_tags(ResourceArn=described["TrainingJobArn"]).get("Tags", [])
        except ClientError:  # tags are a nicety; the input URI is the fallback
            tags = []
        rows.append(job_row(described, tags))
    return rows


def show_status(
    *, limit: int = DEFAULT_LIMIT, prefix: str | None = None, out: TextIO | None = None
) -> int:
    """The ``status`` command; returns the exit code."""
    out = out or sys.stdout  # resolved late: tests and callers may swap sys.stdout
    prefix = prefix or os.environ.get("JOB_NAME_PREFIX") or "yolo"
    try:
        rows = list_jobs(aws.client("sagemaker"), prefix, limit)
    except (ClientError, BotoCoreError) as exc:
        raise AwsProblem(
            f"cannot list SageMaker training jobs: {exc}\n"
            "Check your AWS credentials and region (AWS_REGION / --region): the jobs live in "
            "the region the stack is deployed to."
        ) from exc
    if not rows:
        print(
            f"No training jobs named {prefix}-* in {aws.current_region()}. Upload a dataset "
            "with `yolo-pipeline upload`, or pass --prefix if the stack uses another "
            "JobNamePrefix.",
            file=out,
        )
        return EXIT_OK
    print(format_table(rows), file=out)
    return EXIT_OK


# The command line: arguments, then the call above.


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = subparsers.add_parser(
        "status",
        help="recent training jobs of this pipeline and where they are",
        description="List the newest SageMaker training jobs named <prefix>-* with status, "
        "secondary status, duration, final mAP and dataset.",
    )
    p.add_argument("--limit", type=int_in_range(1), default=10, help="how many jobs (default 10)")
    p.add_argument("--prefix", help="job name prefix (default $JOB_NAME_PREFIX or 'yolo')")
    p.add_argument("--region", help="AWS region of the stack (default: your AWS config)")
    p.set_defaults(handler=run_status)


def run_status(args: argparse.Namespace) -> int:
    if args.region:
        os.environ["AWS_REGION"] = os.environ["AWS_DEFAULT_REGION"] = args.region
    return show_status(limit=args.limit, prefix=args.prefix)
