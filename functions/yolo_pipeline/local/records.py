"""A local run in the terms SageMaker reports a job: DescribeTrainingJob and the state change."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from yolo_pipeline.contract import TAG_DATASET_URI
from yolo_pipeline.local.placeholders import placeholder_job_arn
from yolo_pipeline.training.metric_line import parse_metric_lines


@dataclass
class Phase:
    status: str
    message: str
    start: datetime
    end: datetime | None = None


@dataclass
class RunRecord:
    """What happened in the training stage, in the terms DescribeTrainingJob uses."""

    status: str = "InProgress"
    secondary: str = "Starting"
    created: datetime = field(default_factory=lambda: datetime.now(UTC))
    started: datetime | None = None
    ended: datetime | None = None
    phases: list[Phase] = field(default_factory=list)
    failure_reason: str = ""
    log: list[str] = field(default_factory=list)
    artefact: Path | None = None

    def enter(self, status: str, message: str) -> None:
        now = datetime.now(UTC)
        if self.phases and self.phases[-1].end is None:
            self.phases[-1].end = now
        self.phases.append(Phase(status, message, now))
        self.secondary = status

    def finish(self, status: str, message: str) -> None:
        """The terminal state: a phase of no length, as SageMaker lists it."""
        self.enter(status, message)
        self.phases[-1].end = self.phases[-1].start
        self.status, self.secondary = status, status
        self.ended = self.phases[-1].start


def final_metric_list(log_text: str, when: datetime) -> list[dict[str, Any]]:
    """FinalMetricDataList as SageMaker builds it: the last logged value of each metric."""
    last: dict[str, float] = {}
    for row in parse_metric_lines(log_text):
        last.update(row)
    return [{"MetricName": k, "Value": v, "Timestamp": when} for k, v in last.items()]


def _ms(value: datetime | None) -> str | None:
    return None if value is None else str(int(value.timestamp() * 1000))


def _s3_source(channel: dict[str, Any]) -> dict[str, Any]:
    return dict(channel.get("DataSource", {}).get("S3DataSource", {}))


def _transitions(run: RunRecord) -> list[dict[str, Any]]:
    return [
        {
            "Status": p.status,
            "StartTime": p.start,
            **({"EndTime": p.end} if p.end else {}),
            "StatusMessage": p.message,
        }
        for p in run.phases
    ]


def job_records(
    request: dict[str, Any], run: RunRecord, dataset_label: str
) -> tuple[dict[str, Any], dict[str, Any]]:
    """(EventBridge ``detail``, DescribeTrainingJob-shaped dict) for the finished local run."""
    name = request["TrainingJobName"]
    arn = placeholder_job_arn(name)
    ended = run.ended or datetime.now(UTC)
    training_seconds = round((ended - (run.started or run.created)).total_seconds())
    artefacts = {"S3ModelArtifacts": str(run.artefact)} if run.artefact else {}
    tags = [t for t in request.get("Tags", []) if t["Key"] != TAG_DATASET_URI]
    tags.append({"Key": TAG_DATASET_URI, "Value": dataset_label})  # where it really came from
    detail: dict[str, Any] = {
        "TrainingJobName": name,
        "TrainingJobArn": arn,
        "TrainingJobStatus": run.status,
        "SecondaryStatus": run.secondary,
        "CreationTime": _ms(run.created),
        "TrainingStartTime": _ms(run.started),
        "TrainingEndTime": _ms(ended),
        "LastModifiedTime": _ms(ended),
        "HyperParameters": request["HyperParameters"],
        "ResourceConfig": request["ResourceConfig"],
        "ModelArtifacts": artefacts,
        "Tags": {t["Key"]: t["Value"] for t in tags},
    }
    described: dict[str, Any] = {
        **{k: v for k, v in request.items() if k not in {"Tags", "Environment"}},
        # The notifier names the dataset from the input channel: the local folder here.
        "InputDataConfig": [
            {**c, "DataSource": {"S3DataSource": {**_s3_source(c), "S3Uri": dataset_label}}}
            for c in request["InputDataConfig"]
        ],
        "TrainingJobArn": arn,
        "TrainingJobStatus": run.status,
        "SecondaryStatus": run.secondary,
        "CreationTime": run.created,
        "TrainingStartTime": run.started,
        "TrainingEndTime": ended,
        "LastModifiedTime": ended,
        "SecondaryStatusTransitions": _transitions(run),
        "FinalMetricDataList": final_metric_list("\n".join(run.log), ended),
        "TrainingTimeInSeconds": training_seconds,
        # This machine is neither spot nor billed: billable = training time, no savings.
        "BillableTimeInSeconds": training_seconds,
        "EnableManagedSpotTraining": False,
        "ModelArtifacts": artefacts,
        "Tags": tags,
    }
    if run.failure_reason:
        detail["FailureReason"] = described["FailureReason"] = run.failure_reason
    return detail, described
