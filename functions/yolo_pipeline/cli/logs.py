"""``yolo-pipeline logs JOB [--follow]``: the training job's CloudWatch log, in the terminal.

SageMaker writes each instance's output to the log group ``/aws/sagemaker/TrainingJobs``,
stream ``<job>/algo-1-<epoch>``. ``--follow`` polls until the job has ended and its last
lines are read. The log holds dataset text (class names, file names): every line is made
inert before it is printed.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from typing import Any, TextIO

from botocore.exceptions import BotoCoreError, ClientError

from yolo_pipeline.aws import clients as aws
from yolo_pipeline.aws.errors import error_code
from yolo_pipeline.cli.jobs import RUNNING, describe_job
from yolo_pipeline.cli.stack import access_problem, add_aws_options, use_aws
from yolo_pipeline.errors import EXIT_INVALID, EXIT_OK
from yolo_pipeline.text import clean

LOG_GROUP = "/aws/sagemaker/TrainingJobs"
POLL_S = 5.0


class LogReader:
    """Reads every stream of one job from where it last stopped."""

    def __init__(self, logs: Any, job_name: str) -> None:
        self.logs = logs
        self.job_name = job_name
        self.tokens: dict[str, str] = {}

    def streams(self) -> list[str]:
        try:
            answer = self.logs.describe_log_streams(
                logGroupName=LOG_GROUP, logStreamNamePrefix=f"{self.job_name}/"
            )
        except ClientError as exc:
            if error_code(exc) == "ResourceNotFoundException":  # no job has logged yet
                return []
            raise
        return sorted(str(s["logStreamName"]) for s in answer.get("logStreams", []))

    def new_lines(self) -> list[str]:
        lines: list[str] = []
        for stream in self.streams():
            while True:
                kwargs: dict[str, Any] = {
                    "logGroupName": LOG_GROUP,
                    "logStreamName": stream,
                    "startFromHead": True,
                }
                if stream in self.tokens:
                    kwargs["nextToken"] = self.tokens[stream]
                page = self.logs.get_log_events(**kwargs)
                events = page.get("events", [])
                lines += [clean(str(e.get("message", "")).rstrip("\n"), 2000) for e in events]
                token = page.get("nextForwardToken")
                if not events or token == self.tokens.get(stream):
                    self.tokens[stream] = token or self.tokens.get(stream, "")
                    break
                self.tokens[stream] = token
        return lines


def show_logs(
    job_name: str,
    *,
    follow: bool = False,
    out: TextIO | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> int:
    """The ``logs`` command: exit 0, or 1 when the followed job failed."""
    out = out or sys.stdout
    sagemaker = aws.client("sagemaker")
    described = describe_job(sagemaker, job_name)
    reader = LogReader(aws.client("logs"), job_name)
    try:
        while True:
            for text in reader.new_lines():
                print(text, file=out, flush=follow)
            status = str(described.get("TrainingJobStatus", ""))
            if not follow or status not in RUNNING:
                break
            sleep(POLL_S)
            described = describe_job(sagemaker, job_name)
    except (ClientError, BotoCoreError) as exc:
        raise access_problem(f"read the log of {job_name}", exc) from exc
    status = str(described.get("TrainingJobStatus", "?"))
    secondary = str(described.get("SecondaryStatus", ""))
    print(f"-- {job_name}: {status}" + (f" ({secondary})" if secondary else ""), file=out)
    if described.get("FailureReason"):
        print(f"   reason: {clean(str(described['FailureReason']), 1000)}", file=out)
    return EXIT_INVALID if follow and status == "Failed" else EXIT_OK


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = subparsers.add_parser(
        "logs",
        help="print a training job's log (CloudWatch); --follow until it ends",
        description="Print the CloudWatch log of a training job. With --follow, keep printing "
        "until the job ends (exit 1 when it failed).",
    )
    p.add_argument("job", metavar="JOB", help="training job name (see `yolo-pipeline status`)")
    p.add_argument("--follow", "-f", action="store_true", help="keep printing until the job ends")
    add_aws_options(p)
    p.set_defaults(handler=run_logs)


def run_logs(args: argparse.Namespace) -> int:
    use_aws(args)
    return show_logs(args.job, follow=args.follow)
