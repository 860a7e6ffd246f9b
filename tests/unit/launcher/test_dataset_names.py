"""One upload, one name: the start, rejection and completion subjects of a zip and of a
nested folder name the dataset the same way, and so does the model registry group."""

from __future__ import annotations

import pytest

from yolo_pipeline.findings import error
from yolo_pipeline.launcher.emails import render_no_image, render_rejection, render_started
from yolo_pipeline.launcher.s3_event import Upload
from yolo_pipeline.notifier.emails import render_job_email
from yolo_pipeline.notifier.job_facts import dataset_name as job_dataset_name
from yolo_pipeline.notifier.registry import group_name

PREFIX = "datasets/"


def _name_in(subject: str, status: str) -> str:
    head = f"[yolo] {status}: "
    assert subject.startswith(head), subject
    return subject[len(head) :]


@pytest.mark.parametrize(
    ("key", "expected"),
    [("datasets/cats.zip", "cats"), ("datasets/team/cats/data.yaml", "team/cats")],
)
def test_start_rejection_and_completion_name_the_dataset_alike(key: str, expected: str) -> None:
    up = Upload(bucket="b", key=key, sequencer="1")
    name = up.dataset_name(PREFIX)
    started = render_started(
        dataset_uri=up.dataset_uri,
        job_name="yolo-cats-0123456789",
        region="us-east-1",
        instance_type="ml.m5.xlarge",
        spot=False,
        max_runtime_seconds=3600,
    )
    rejected = render_rejection(dataset_uri=up.dataset_uri, errors=[error("data.yaml", "bad")])
    # The job carries the launcher's name as its tag; the notifier reads it back.
    detail = {
        "TrainingJobName": "yolo-cats-0123456789",
        "TrainingJobStatus": "Completed",
        "Tags": {"yolo:dataset-uri": up.dataset_uri, "yolo:dataset-name": name},
    }
    completed = render_job_email(detail, None, region="us-east-1")
    assert name == expected
    assert _name_in(started.subject, "Training started") == expected
    assert _name_in(rejected.subject, "Dataset rejected") == expected
    assert _name_in(completed.subject, "Completed") == expected
    # Without the tag (a job described from its channel alone) the name is the same.
    untagged = job_dataset_name(up.dataset_uri, "yolo-cats-0123456789")
    assert untagged == expected
    assert group_name("yolo", untagged) == group_name("yolo", name)


def test_control_characters_in_a_key_never_reach_the_no_image_email() -> None:
    hostile = "datasets/evil\x1b[31m\r\nBcc: x@example.com\x00/data.yaml"
    up = Upload(bucket="b", key=hostile, sequencer="1")
    email = render_no_image(
        dataset_uri=up.dataset_uri,
        job_name="yolo-evil-0123456789",
        image_uri="123.dkr.ecr.us-east-1.amazonaws.com/yolo-training:latest",
        region="us-east-1",
    )
    for char in ("\x1b", "\r", "\x00"):
        assert char not in email.body and char not in email.subject
    assert not any(line.startswith("Bcc:") for line in email.body.splitlines())
