"""Local mode's pure parts: the DescribeTrainingJob record, metrics, workdir and sample rules."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from yolo_pipeline.local.errors import LocalRunError
from yolo_pipeline.local.records import Phase, RunRecord, final_metric_list, job_records
from yolo_pipeline.local.sample import SAMPLE_MARKER, write_sample_dataset
from yolo_pipeline.local.stages import check_workdir
from yolo_pipeline.notifier.emails import render_job_email
from yolo_pipeline.training.metric_line import format_metric_line

T0 = datetime(2026, 11, 27, 10, 0, tzinfo=UTC)

REQUEST = {
    "TrainingJobName": "yolo-shapes-0123456789",
    "HyperParameters": {"epochs": "15"},
    "ResourceConfig": {"InstanceType": "ml.g4dn.xlarge", "InstanceCount": 1, "VolumeSizeInGB": 50},
    "InputDataConfig": [{"ChannelName": "dataset", "InputMode": "File"}],
    "Environment": {"YOLO_OFFLINE": "1"},
    "Tags": [
        {"Key": "yolo:pipeline", "Value": "yolo-on-upload"},
        {"Key": "yolo:dataset-uri", "Value": "s3://placeholder/datasets/shapes/"},
    ],
}


def finished_run(status: str = "Completed", failure: str = "") -> RunRecord:
    run = RunRecord(status=status, secondary=status, created=T0, failure_reason=failure)
    run.started = T0 + timedelta(seconds=1)
    run.ended = T0 + timedelta(seconds=91)
    run.phases = [
        Phase("Starting", "layout", T0, T0 + timedelta(seconds=1)),
        Phase("Downloading", "copy", T0 + timedelta(seconds=1), T0 + timedelta(seconds=2)),
        Phase("Training", "train.py", T0 + timedelta(seconds=2), T0 + timedelta(seconds=90)),
        Phase(status, "done", T0 + timedelta(seconds=91), T0 + timedelta(seconds=91)),
    ]
    run.log = [
        "some ultralytics output",
        format_metric_line(1, {"val:mAP50": 0.1, "val:mAP50-95": 0.05}),
        "noise YOLO_METRICS epoch=2 val:mAP50=0.9 val:mAP50-95=0.7 lr=0.001",
    ]
    if status == "Completed":
        run.artefact = Path("/tmp/run/output/model.tar.gz")
    return run


def test_final_metrics_are_the_last_logged_values_like_sagemaker() -> None:
    rows = final_metric_list("\n".join(finished_run().log), T0)
    values = {m["MetricName"]: m["Value"] for m in rows}
    assert values == {"epoch": 2.0, "val:mAP50": 0.9, "val:mAP50-95": 0.7, "lr": 0.001}
    assert final_metric_list("no metric lines at all", T0) == []


def test_records_feed_the_notifier_a_completed_email() -> None:
    detail, described = job_records(REQUEST, finished_run(), "/data/shapes")
    assert detail["TrainingJobStatus"] == "Completed"
    assert detail["CreationTime"] == str(int(T0.timestamp() * 1000))
    assert described["TrainingTimeInSeconds"] == 90
    assert described["BillableTimeInSeconds"] == 90
    assert described["EnableManagedSpotTraining"] is False
    assert "Environment" not in described
    tags = {t["Key"]: t["Value"] for t in described["Tags"]}
    assert tags["yolo:dataset-uri"] == "/data/shapes"  # the local folder, not the placeholder
    assert [t["Status"] for t in described["SecondaryStatusTransitions"]][:3] == [
        "Starting",
        "Downloading",
        "Training",
    ]

    email = render_job_email(detail, described, region="us-east-1")
    assert email.subject == "[yolo] Completed: shapes mAP50-95 0.700"
    assert "mAP50      0.900" in email.body
    assert "Epochs run: 2 of 15 planned" in email.body
    assert "/tmp/run/output/model.tar.gz" in email.body
    assert "Training                 1m 28s" in email.body


def test_records_carry_the_failure_reason() -> None:
    run = finished_run("Failed", "The train split has no images: fix data.yaml.")
    detail, described = job_records(REQUEST, run, "/data/shapes")
    assert detail["FailureReason"] == described["FailureReason"]
    email = render_job_email(detail, described, region="us-east-1")
    assert email.subject.startswith("[yolo] Failed: shapes")
    assert "The train split has no images" in email.body
    assert "ModelArtifacts" not in detail or not detail["ModelArtifacts"]


def test_workdir_must_not_overlap_the_dataset(tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    for bad in (data, data / "run", tmp_path):
        with pytest.raises(LocalRunError, match="overlaps"):
            check_workdir(bad, data.resolve())
    assert check_workdir(tmp_path / "run", data.resolve()) == (tmp_path / "run").resolve()


def test_sample_dataset_never_overwrites_a_user_folder(tmp_path: Path) -> None:
    user = tmp_path / "mine"
    user.mkdir()
    (user / "keep.txt").write_text("precious")
    with pytest.raises(LocalRunError, match="not an earlier sample"):
        write_sample_dataset(user, 2, 1, 64, 0)
    assert (user / "keep.txt").read_text() == "precious"


def test_sample_dataset_writes_training_yaml_and_regenerates(tmp_path: Path) -> None:
    root = tmp_path / "shapes"
    write_sample_dataset(root, 4, 2, 64, 0)
    assert len(list((root / "images" / "train").iterdir())) == 4
    text = (root / "training.yaml").read_text()
    assert text.startswith(SAMPLE_MARKER) and "model: yolo11n.yaml" in text
    write_sample_dataset(root, 2, 1, 64, 0)  # an earlier sample: regenerated, no stale files
    assert len(list((root / "images" / "train").iterdir())) == 2
    assert len(list((root / "labels" / "val").iterdir())) == 1


def test_sample_training_yaml_passes_the_launcher_checks(tmp_path: Path) -> None:
    from yolo_pipeline.local.placeholders import placeholder_settings
    from yolo_pipeline.training.config import parse_training_config

    root = write_sample_dataset(tmp_path / "s", 2, 1, 64, 0)
    config = parse_training_config(
        (root / "training.yaml").read_bytes(), placeholder_settings("yolo").sagemaker_defaults
    )
    assert config.errors == []
    assert config.train_args["model"] == "yolo11n.yaml"
    assert config.sagemaker.max_runtime_seconds == 3600
