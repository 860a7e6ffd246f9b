"""What a new job of a dataset will probably take: the dataset's previous completed job's
billable time, scaled by the epochs asked for. A bonus line of the start email: any
failure here means no estimate, never a failed start."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from yolo_pipeline.aws.observability import logger
from yolo_pipeline.text import finite_number


def _epochs(hyperparameters: Mapping[str, Any] | None) -> float | None:
    value = finite_number((hyperparameters or {}).get("epochs"))
    return value if value and value > 0 else None


def previous_job_seconds(sagemaker: Any, request: Mapping[str, Any]) -> tuple[str, float] | None:
    """(previous job name, estimated billable seconds for ``request``), or ``None``."""
    name = str(request["TrainingJobName"])
    base = name.rsplit("-", 1)[0]  # <prefix>-<dataset slug>: the dataset's jobs share it
    try:
        summaries = sagemaker.list_training_jobs(
            NameContains=base + "-",
            StatusEquals="Completed",
            SortBy="CreationTime",
            SortOrder="Descending",
            MaxResults=10,
        ).get("TrainingJobSummaries", [])
        previous = next(
            (
                s["TrainingJobName"]
                for s in summaries
                if s["TrainingJobName"] != name and s["TrainingJobName"].rsplit("-", 1)[0] == base
            ),
            None,
        )
        if previous is None:
            return None
        job = sagemaker.describe_training_job(TrainingJobName=previous)
    except (ClientError, BotoCoreError) as exc:
        logger.info("No estimate from the previous job", extra={"error": str(exc)})
        return None
    seconds = finite_number(job.get("BillableTimeInSeconds")) or finite_number(
        job.get("TrainingTimeInSeconds")
    )
    if not seconds:
        return None
    before, now = _epochs(job.get("HyperParameters")), _epochs(request.get("HyperParameters"))
    if before and now:
        seconds *= now / before
    return previous, seconds
