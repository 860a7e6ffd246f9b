"""``yolo-pipeline status [DATASET]``: every upload's verdict, the jobs, the month's spend.

Uploads come from the stack's uploads table (the launcher records each one: settling,
rejected with its problems, queued, started as job X, ...), so an upload that started no job
says why.

Jobs are found by name prefix (every job the launcher starts is named ``<prefix>-...``);
ListTrainingJobs' ``NameContains`` narrows the search server-side and a ``startswith``
check drops other jobs that merely contain the prefix. Each job is then described for its
secondary status, timings and final metrics, and its dataset comes from the
``yolo:dataset-uri`` tag (or, for a job without it, the input channel's S3 URI).
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TextIO

from botocore.exceptions import BotoCoreError, ClientError

from yolo_pipeline.aws import clients as aws
from yolo_pipeline.aws.uploads import UploadsTable, Verdict
from yolo_pipeline.cli.arguments import int_in_range
from yolo_pipeline.cli.stack import Stack, access_problem, add_aws_options, open_stack
from yolo_pipeline.cli.verdict_text import verdict_dict, verdict_lines
from yolo_pipeline.contract import TAG_DATASET_URI
from yolo_pipeline.errors import EXIT_OK
from yolo_pipeline.names import named_dataset
from yolo_pipeline.text import clean, duration_column, quote
from yolo_pipeline.training.metric_line import (
    headline_label,
    headline_metric,
    second_metric,
    task_of,
)

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
        # Tags and FailureReason carry dataset text: shown inert.
        lines.append(f"    dataset: {clean(row.dataset, 300)}")
        if row.failure:
            lines.append(f"    reason:  {clean(row.failure, 300)}")
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


def latest_per_dataset(verdicts: list[Verdict]) -> list[Verdict]:
    """The newest verdict of each dataset, newest dataset first (pure)."""
    seen: dict[str, Verdict] = {}
    for verdict in sorted(verdicts, key=lambda v: v.updated_at, reverse=True):
        seen.setdefault(verdict.dataset, verdict)
    return list(seen.values())


def uploads_text(verdicts: list[Verdict], title: str) -> str:
    if not verdicts:
        return f"{title}: none recorded (an upload appears here once the launcher sees it)."
    lines = [f"{title}:"]
    for verdict in verdicts:
        when = clean(verdict.updated_at[:16].replace("T", " "), 20)
        lines.append(f"{quote(verdict.dataset, 80)}  ({when} UTC)")
        lines += verdict_lines(verdict, max_problems=10)
    return "\n".join(lines)


def spend_text(spent: float, budget: float | None, month: str) -> str:
    if budget is None:
        return f"Spend in {month}: ${spent:,.2f} (no monthly budget set)."
    share = spent / budget * 100
    hold = " New uploads wait until next month." if spent >= budget else ""
    return f"Spend in {month}: ${spent:,.2f} of the ${budget:,.2f} budget ({share:.0f}%).{hold}"


def read_uploads(
    stack: Stack, dataset: str | None, month: str
) -> tuple[list[Verdict], float | None, str]:
    """The verdicts to show, the month's spend, and a note when the table is unavailable."""
    if not stack.uploads_table:
        why = stack.why_not or "it has no UploadsTableName output: redeploy it (make deploy)"
        return [], None, f"Upload verdicts: unavailable (stack {quote(stack.name)}: {why})."
    table = UploadsTable(aws.client("dynamodb"), stack.uploads_table)
    try:
        if dataset:
            verdicts = table.history(named_dataset(dataset, stack.dataset_prefix))
        else:
            verdicts = latest_per_dataset(table.recent(limit=100))[: DEFAULT_LIMIT * 2]
        spent = sum(table.month_spend(month).values())
    except (ClientError, BotoCoreError) as exc:
        raise access_problem("read the uploads table", exc) from exc
    return verdicts, spent, ""


def show_status(
    *,
    limit: int = DEFAULT_LIMIT,
    prefix: str | None = None,
    out: TextIO | None = None,
    stack: Stack | None = None,
    dataset: str | None = None,
    as_json: bool = False,
) -> int:
    """The ``status`` command: uploads with the launcher's verdict, jobs, the month's spend."""
    out = out or sys.stdout  # resolved late: tests and callers may swap sys.stdout
    stack = stack or Stack("", aws.current_region())
    prefix = prefix or stack.job_prefix
    month = datetime.now(UTC).strftime("%Y-%m")
    verdicts, spent, note = read_uploads(stack, dataset, month) if stack.name else ([], None, "")
    try:
        rows = list_jobs(aws.client("sagemaker"), prefix, limit)
    except (ClientError, BotoCoreError) as exc:
        raise access_problem("list SageMaker training jobs", exc) from exc
    if dataset:
        name = named_dataset(dataset, stack.dataset_prefix)
        rows = [r for r in rows if r.dataset == name]
    if as_json:
        print(json.dumps(status_dict(verdicts, rows, spent, stack, month), indent=2), file=out)
        return EXIT_OK
    title = f"Uploads of {quote(dataset)}" if dataset else "Uploads (latest per dataset)"
    if stack.name:
        print(note or uploads_text(verdicts, title), file=out)
        print(file=out)
    if rows:
        print(format_table(rows), file=out)
    else:
        print(
            f"No training jobs named {prefix}-* in {aws.current_region()}. Upload a dataset "
            "with `yolo-pipeline upload`; the uploads above say why one started no job.",
            file=out,
        )
    if spent is not None:
        print("\n" + spend_text(spent, stack.monthly_budget, month), file=out)
    return EXIT_OK


def status_dict(
    verdicts: list[Verdict], rows: list[JobRow], spent: float | None, stack: Stack, month: str
) -> dict[str, Any]:
    return {
        "stack": stack.name or None,
        "region": aws.current_region(),
        "uploads": [verdict_dict(v) for v in verdicts],
        "jobs": [
            {
                "name": r.name,
                "status": r.status,
                "secondary": r.secondary,
                "created": r.created.isoformat() if r.created else None,
                "duration_s": r.duration_s,
                "task": r.task,
                "dataset": r.dataset,
                "headline": headline_label(headline_metric(r.task)),
                "headline_value": r.map50_95,
                "failure": r.failure or None,
            }
            for r in rows
        ],
        "spend": {"month": month, "usd": spent, "budget_usd": stack.monthly_budget},
    }


# The command line: arguments, then the call above.


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = subparsers.add_parser(
        "status",
        help="uploads with the launcher's verdict, training jobs, and the month's spend",
        description="Show each dataset's latest upload with the launcher's verdict (rejected "
        "with its problems, settling, queued, started as job X, ...), the newest training "
        "jobs, and the month's spend against the budget. With DATASET: that dataset's "
        "history.",
    )
    p.add_argument("dataset", metavar="DATASET", nargs="?", help="a dataset name or its s3:// URI")
    p.add_argument("--limit", type=int_in_range(1), default=10, help="how many jobs (default 10)")
    p.add_argument("--prefix", help="job name prefix (default: the stack's JobNamePrefix)")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    add_aws_options(p)
    p.set_defaults(handler=run_status)


def run_status(args: argparse.Namespace) -> int:
    stack = open_stack(args)
    return show_status(
        limit=args.limit,
        prefix=args.prefix,
        stack=stack,
        dataset=args.dataset,
        as_json=args.json,
    )
