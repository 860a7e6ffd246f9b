"""One training job by name, for the commands that follow or steer it (download, logs, stop).

A name that does not exist in this region is the job's problem (exit 1) with the region
named, since a job in another region is the usual cause; any other failure is access (exit 2).
"""

from __future__ import annotations

import re
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from yolo_pipeline.aws import clients as aws
from yolo_pipeline.aws.errors import error_code, error_message
from yolo_pipeline.cli.stack import access_problem
from yolo_pipeline.errors import JobProblem, UsageError
from yolo_pipeline.text import quote

JOB_NAME = re.compile(r"^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$")
RUNNING = frozenset({"InProgress", "Stopping"})


def checked_name(job_name: str) -> str:
    if not JOB_NAME.match(job_name):
        raise UsageError(f"{quote(job_name, 80)} is not a training job name")
    return job_name


def describe_job(sagemaker: Any, job_name: str) -> dict[str, Any]:
    """DescribeTrainingJob; an unknown name raises JobProblem, other failures AwsProblem."""
    try:
        return dict(sagemaker.describe_training_job(TrainingJobName=checked_name(job_name)))
    except ClientError as exc:
        if error_code(exc) == "ValidationException" and "find" in error_message(exc).lower():
            raise JobProblem(
                f"no training job named {quote(job_name, 80)} in {aws.current_region()}: "
                "`yolo-pipeline status` lists this stack's jobs"
            ) from exc
        raise access_problem(f"describe the training job {quote(job_name, 80)}", exc) from exc
    except BotoCoreError as exc:
        raise access_problem(f"describe the training job {quote(job_name, 80)}", exc) from exc
