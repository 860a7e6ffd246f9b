"""``yolo-pipeline stop JOB``: stop a running training job (SageMaker keeps what it saved).

A stopped job still gets its email, and its last checkpoint and model are kept when the
training image saved them. Stopping a job that already ended changes nothing and says so.
"""

from __future__ import annotations

import argparse
import sys
from typing import TextIO

from botocore.exceptions import BotoCoreError, ClientError

from yolo_pipeline.aws import clients as aws
from yolo_pipeline.cli.jobs import describe_job
from yolo_pipeline.cli.stack import access_problem, add_aws_options, use_aws
from yolo_pipeline.errors import EXIT_OK


def stop_job(job_name: str, out: TextIO | None = None) -> int:
    out = out or sys.stdout
    sagemaker = aws.client("sagemaker")
    status = str(describe_job(sagemaker, job_name).get("TrainingJobStatus", "?"))
    if status != "InProgress":
        print(f"{job_name} is {status}: nothing to stop.", file=out)
        return EXIT_OK
    try:
        sagemaker.stop_training_job(TrainingJobName=job_name)
    except (ClientError, BotoCoreError) as exc:
        raise access_problem(f"stop {job_name}", exc) from exc
    print(
        f"Stopping {job_name}. SageMaker sends the container SIGTERM; the 'Stopped' email "
        f"follows. Watch it with: yolo-pipeline logs {job_name} --follow",
        file=out,
    )
    return EXIT_OK


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = subparsers.add_parser(
        "stop",
        help="stop a running training job",
        description="Stop a training job that is in progress (StopTrainingJob). Exit 0 when "
        "it is stopping or had already ended, 1 when there is no such job, 2 on access errors.",
    )
    p.add_argument("job", metavar="JOB", help="training job name (see `yolo-pipeline status`)")
    add_aws_options(p)
    p.set_defaults(handler=run_stop)


def run_stop(args: argparse.Namespace) -> int:
    use_aws(args)
    return stop_job(args.job)
