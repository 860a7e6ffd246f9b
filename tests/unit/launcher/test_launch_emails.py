"""The launcher's emails read well as plain text and satisfy SNS's subject rules."""

from __future__ import annotations

from yolo_pipeline.dataset.validation import DatasetStats, SplitStats
from yolo_pipeline.findings import error, warning
from yolo_pipeline.launcher.emails import (
    MAX_LISTED,
    quota_name,
    render_quota,
    render_rejection,
    render_started,
)

URI = "s3://yolo-datasets-123456789012/datasets/shapes/"
STATS = DatasetStats(
    task="detect",
    classes=3,
    names=("circle", "square", "triangle"),
    splits={"train": SplitStats(64, 62, 2, 131), "val": SplitStats(16, 16, 0, 33)},
)


def _check_sns_rules(subject: str, body: str) -> None:
    assert subject.isascii() and len(subject) < 100 and "\n" not in subject
    assert body.endswith("\n")
    for line in body.splitlines():
        # URLs cannot wrap; every other line fits a plain-text mail client.
        assert len(line) <= 78 or "://" in line, line


def test_rejection_lists_every_error_with_file_line_and_fix() -> None:
    email = render_rejection(
        dataset_uri=URI,
        errors=[
            error("labels/train/a.txt", "class 7 is out of range 0-2", line=3, hint="fix it"),
            error("data.yaml", "has a download key", field="download", hint="remove it"),
        ],
        warnings=[warning("images/val", "only 3 images", hint="add more")],
    )
    _check_sns_rules(email.subject, email.body)
    assert email.subject == "[yolo] Dataset rejected: shapes"
    assert "labels/train/a.txt, line 3" in email.body
    assert "data.yaml, download" in email.body and "Fix: remove it" in email.body
    assert "Problems to fix (2)" in email.body and "Warnings (1)" in email.body
    assert f"yolo-pipeline upload ./your-dataset {URI}" in email.body
    assert email.attributes == {"kind": "DatasetRejected", "dataset": URI}


def test_long_lists_are_capped_with_a_pointer_to_the_cli() -> None:
    errors = [error(f"labels/train/{i}.txt", "bad row", line=1) for i in range(MAX_LISTED + 5)]
    email = render_rejection(dataset_uri=URI, errors=errors)
    assert f"Problems to fix ({MAX_LISTED + 5})" in email.body
    assert "... and 5 more" in email.body


def test_started_email_has_job_dataset_summary_and_links() -> None:
    email = render_started(
        dataset_uri=URI,
        job_name="yolo-shapes-0123456789",
        region="eu-west-1",
        instance_type="ml.g4dn.xlarge",
        spot=True,
        max_runtime_seconds=86400,
        max_wait_seconds=172800,
        stats=STATS,
        warnings=[warning("images/train", "2 images have no label file")],
        train_args={"epochs": "50"},
    )
    _check_sns_rules(email.subject, email.body)
    body = email.body
    assert email.subject == "[yolo] Training started: shapes"
    assert "Name:         yolo-shapes-0123456789" in body
    assert "Spot:         on (waits up to 48 h in all for spot capacity)" in body
    assert "Max runtime:  24 h" in body and "Settings:     epochs=50" in body
    assert "Classes:  3 (circle, square, triangle)" in body
    assert "  train      64        62           2        131" in body
    assert "eu-west-1.console.aws.amazon.com/sagemaker" in body
    assert "Warnings (1)" in body
    assert email.attributes["job_name"] == "yolo-shapes-0123456789"


def test_started_email_without_stats_or_settings() -> None:
    email = render_started(
        dataset_uri=URI,
        job_name="yolo-x-0123456789",
        region="us-east-1",
        instance_type="ml.m5.xlarge",
        spot=False,
        max_runtime_seconds=1800,
    )
    assert "Spot:         off" in email.body and "Max runtime:  30 min" in email.body
    assert "defaults (no training.yaml)" in email.body
    assert "Dataset summary" not in email.body


def test_quota_email_names_quota_and_alternatives() -> None:
    email = render_quota(
        dataset_uri=URI,
        job_name="yolo-shapes-0123456789",
        region="us-east-1",
        instance_type="ml.g4dn.xlarge",
        spot=True,
        message="The account-level service limit is 0 Instances.",
        allowed_instance_types=("ml.g4dn.xlarge", "ml.m5.xlarge"),
    )
    _check_sns_rules(email.subject, email.body)
    assert quota_name("ml.g4dn.xlarge", True) in email.body
    assert "instance_type: ml.m5.xlarge" in email.body and "spot: false" in email.body
    assert quota_name("ml.p3.2xlarge", False) == "ml.p3.2xlarge for training job usage"


def test_unicode_and_very_long_dataset_names_keep_subjects_valid() -> None:
    uri = "s3://b/datasets/" + "交通 Café " * 30 + "/"
    email = render_rejection(dataset_uri=uri, errors=[error("data.yaml", "missing")])
    _check_sns_rules(email.subject, email.body)
    assert f"yolo-pipeline upload ./your-dataset '{uri}'" in email.body  # pasteable
    assert email.subject.startswith("[yolo] Dataset rejected: ")


def test_a_large_folder_is_told_where_the_limit_lies_and_a_zip_is_not() -> None:
    from yolo_pipeline.launcher.emails import FOLDER_MAX_LABEL_FILES, render_started

    def body(uri: str, read: int) -> str:
        email = render_started(
            dataset_uri=uri,
            job_name="yolo-x-1",
            region="us-east-1",
            instance_type="ml.g4dn.xlarge",
            spot=False,
            max_runtime_seconds=3600,
            stats=DatasetStats(classes=1, names=("a",), label_files_read=read),
        )
        return " ".join(email.body.split())

    assert f"reads up to {FOLDER_MAX_LABEL_FILES:,}" in body("s3://b/datasets/x/", 400_000)
    assert "Size:" not in body("s3://b/datasets/x/", 2_000)
    assert "Size:" not in body("s3://b/datasets/x.zip", 400_000)


def test_the_image_missing_email_of_a_zip_says_to_upload_the_zip_again() -> None:
    from yolo_pipeline.launcher.emails import render_no_image

    email = render_no_image(
        dataset_uri="s3://b/datasets/shapes.zip",
        job_name="yolo-shapes-0123456789",
        image_uri="123456789012.dkr.ecr.us-east-1.amazonaws.com/yolo:latest",
        region="us-east-1",
    )
    assert "upload the zip again" in email.body
    assert "aws s3 cp ./your-dataset.zip s3://b/datasets/shapes.zip" in email.body
    assert "shapes.zip/data.yaml" not in email.body  # that key would be a new folder dataset
