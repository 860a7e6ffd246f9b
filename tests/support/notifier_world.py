"""Realistic DescribeTrainingJob responses built from the sample state-change events.

Shared by the renderer's golden tests and the notifier's handler tests. The responses
use datetimes (as boto3 returns them) and are checked against botocore's output shape by
``Stubber.add_response`` in the handler tests.
"""

from __future__ import annotations

import copy
from datetime import UTC, datetime
from typing import Any

from tests.support.helpers import load_event

COMPLETED_METRICS = {
    "val:mAP50-95": 0.6123,
    "val:mAP50": 0.8451,
    "val:precision": 0.8011,
    "val:recall": 0.7334,
    "epoch": 50.0,
    "train:box_loss": 0.9123,
}


def _dt(epoch_ms: str) -> datetime:
    return datetime.fromtimestamp(int(epoch_ms) / 1000, tz=UTC)


def described_for(event_name: str, **overrides: Any) -> dict[str, Any]:
    """A DescribeTrainingJob response for ``events/<event_name>.json``.

    Completed jobs get metrics, times and spot figures; failed and stopped jobs get what
    SageMaker returns for them (times, no metrics). ``overrides`` replace top-level keys;
    a value of ``None`` removes the key.
    """
    detail = load_event(event_name)["detail"]
    status = detail["TrainingJobStatus"]
    described: dict[str, Any] = {
        key: copy.deepcopy(detail[key])
        for key in (
            "TrainingJobName",
            "TrainingJobArn",
            "TrainingJobStatus",
            "SecondaryStatus",
            "HyperParameters",
            "AlgorithmSpecification",
            "RoleArn",
            "InputDataConfig",
            "OutputDataConfig",
            "ResourceConfig",
            "StoppingCondition",
        )
    }
    described["AlgorithmSpecification"].pop("EnableSageMakerMetricsTimeSeries", None)
    for key in ("CreationTime", "TrainingStartTime", "TrainingEndTime", "LastModifiedTime"):
        if key in detail:
            described[key] = _dt(detail[key])
    described["SecondaryStatusTransitions"] = [
        {
            **{k: v for k, v in t.items() if k not in ("StartTime", "EndTime")},
            "StartTime": _dt(t["StartTime"]),
            **({"EndTime": _dt(t["EndTime"])} if "EndTime" in t else {}),
        }
        for t in detail["SecondaryStatusTransitions"]
    ]
    described["EnableManagedSpotTraining"] = True
    described["CheckpointConfig"] = {
        "S3Uri": f"s3://yolo-datasets-123456789012/checkpoints/{detail['TrainingJobName']}/",
        "LocalPath": "/opt/ml/checkpoints",
    }
    described["EnableNetworkIsolation"] = True
    described["ModelArtifacts"] = detail.get(
        "ModelArtifacts",
        {
            "S3ModelArtifacts": "s3://yolo-datasets-123456789012/models/"
            f"{detail['TrainingJobName']}/output/model.tar.gz"
        },
    )
    if status == "Completed":
        described["FinalMetricDataList"] = [
            {"MetricName": name, "Value": value, "Timestamp": _dt(detail["TrainingEndTime"])}
            for name, value in COMPLETED_METRICS.items()
        ]
        described["TrainingTimeInSeconds"] = 3907
        described["BillableTimeInSeconds"] = 1172
    elif status == "Failed":
        described["FailureReason"] = detail["FailureReason"]
        described["TrainingTimeInSeconds"] = 402
        described["BillableTimeInSeconds"] = 121
    elif status == "Stopped":
        described["FinalMetricDataList"] = [
            {
                "MetricName": "val:mAP50-95",
                "Value": 0.4012,
                "Timestamp": _dt(detail["TrainingEndTime"]),
            },
            {"MetricName": "epoch", "Value": 37.0, "Timestamp": _dt(detail["TrainingEndTime"])},
        ]
        described["TrainingTimeInSeconds"] = 86520
        described["BillableTimeInSeconds"] = 25956
    for key, value in overrides.items():
        if value is None:
            described.pop(key, None)
        else:
            described[key] = value
    return described
