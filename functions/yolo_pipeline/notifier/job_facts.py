"""What a finished training job says about itself: the event's ``detail`` merged with
DescribeTrainingJob, and the facts the emails and the registry read from it."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from yolo_pipeline.contract import CHANNEL_DATASET, TAG_DATASET_NAME, TAG_DATASET_URI
from yolo_pipeline.names import dataset_name as one_dataset_name
from yolo_pipeline.notifier.sagemaker_event import as_datetime, normalise_tags
from yolo_pipeline.text import finite_number


def merged_job(detail: Mapping[str, Any], described: Mapping[str, Any] | None) -> dict[str, Any]:
    """DescribeTrainingJob values over the event's (fresher, and the only source of metrics)."""
    job: dict[str, Any] = dict(detail)
    for key, value in (described or {}).items():
        if value not in (None, "", [], {}):
            job[key] = value
    tags = normalise_tags(detail.get("Tags"))
    tags.update(normalise_tags((described or {}).get("Tags")))
    job["Tags"] = tags
    return job


def dataset_uri(job: Mapping[str, Any]) -> str:
    """The dataset's S3 URI: the job's own ``dataset`` input channel (what it really read),
    else the launcher's tag (tag values stop at 256 characters, S3 keys do not)."""
    channels = job.get("InputDataConfig")
    if isinstance(channels, list):
        named = [c for c in channels if dig(c, "ChannelName") == CHANNEL_DATASET]
        for channel in named or channels:
            uri = dig(channel, "DataSource", "S3DataSource", "S3Uri")
            if isinstance(uri, str) and uri:
                return uri
    return normalise_tags(job.get("Tags")).get(TAG_DATASET_URI, "")


def dataset_name(uri: str, job_name: str, job: Mapping[str, Any] | None = None) -> str:
    """The job's ``yolo:dataset-name`` tag (the launcher's name for the dataset), else the
    one name of its URI (yolo_pipeline.names), else the job name."""
    tagged = normalise_tags((job or {}).get("Tags")).get(TAG_DATASET_NAME, "")
    return tagged or one_dataset_name(uri) or job_name or "dataset"


def final_metrics(job: Mapping[str, Any]) -> dict[str, float]:
    out: dict[str, float] = {}
    items = job.get("FinalMetricDataList")
    for item in items if isinstance(items, list) else []:
        if not isinstance(item, Mapping):
            continue
        name, value = item.get("MetricName"), item.get("Value")
        if isinstance(name, str) and isinstance(value, int | float) and not isinstance(value, bool):
            out[name] = float(value)  # inf and nan are kept: the table prints them as such
    return out


def phase_durations(job: Mapping[str, Any]) -> list[tuple[str, float | None]]:
    """(secondary status, seconds) per transition, in order; the open last one ends at
    TrainingEndTime. Repeats stay separate so a spot interruption is visible."""
    transitions = job.get("SecondaryStatusTransitions")
    end_of_job = as_datetime(job.get("TrainingEndTime"))
    rows: list[tuple[str, float | None]] = []
    for item in transitions if isinstance(transitions, list) else []:
        if not isinstance(item, Mapping) or not item.get("Status"):
            continue
        start = as_datetime(item.get("StartTime"))
        end = as_datetime(item.get("EndTime")) or end_of_job
        seconds = (end - start).total_seconds() if start and end and end >= start else None
        rows.append((str(item["Status"]), seconds))
    # The terminal marker (Completed/Failed/Stopped...) has no length worth showing.
    while rows and rows[-1][0] in _TERMINAL_SECONDARY and not rows[-1][1]:
        rows.pop()
    return rows


_TERMINAL_SECONDARY = frozenset(
    {"Completed", "Failed", "Stopped", "MaxRuntimeExceeded", "MaxWaitTimeExceeded"}
)


def uses_spot(job: Mapping[str, Any]) -> bool:
    """EnableManagedSpotTraining (DescribeTrainingJob); the event lacks it, but only spot
    jobs may set StoppingCondition.MaxWaitTimeInSeconds."""
    flag = job.get("EnableManagedSpotTraining")
    if isinstance(flag, bool):
        return flag
    return dig(job, "StoppingCondition", "MaxWaitTimeInSeconds") is not None


def dig(value: Any, *keys: str) -> Any:
    for key in keys:
        if not isinstance(value, Mapping):
            return None
        value = value.get(key)
    return value


def whole_number(value: Any) -> int | None:
    number = finite_number(value)
    return int(number) if number is not None and number >= 0 else None
