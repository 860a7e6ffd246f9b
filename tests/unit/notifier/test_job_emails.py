"""The job email renderer: golden files for a completed and a failed job, plus the rules.

Regenerate the golden files with ``UPDATE_GOLDEN=1 pytest tests/unit/notifier/test_job_emails.py``
and read the diff as a user would before committing it.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.support.helpers import load_event
from tests.support.hostile import as_text
from tests.support.notifier_world import described_for
from yolo_pipeline.aws.email import Email
from yolo_pipeline.notifier.emails import METRIC_TABLE, render_job_email
from yolo_pipeline.notifier.fixes import likely_fixes
from yolo_pipeline.notifier.job_facts import phase_durations
from yolo_pipeline.text import duration_text
from yolo_pipeline.training.metric_line import METRIC_NAMES

GOLDEN = Path(__file__).parent / "golden"


def render(event_name: str, described: dict[str, Any] | None = None, **kw: Any) -> Email:
    return render_job_email(
        load_event(event_name)["detail"],
        described_for(event_name) if described is None else described,
        region="us-east-1",
        **kw,
    )


@pytest.mark.parametrize(
    ("event_name", "golden"),
    [
        ("training_completed", "job_email_completed.txt"),
        ("training_failed", "job_email_failed.txt"),
    ],
)
def test_golden(event_name: str, golden: str) -> None:
    text = as_text(render(event_name))
    path = GOLDEN / golden
    if os.environ.get("UPDATE_GOLDEN"):
        path.write_text(text, encoding="utf-8")
    assert text == path.read_text(encoding="utf-8")


def test_metric_names_come_from_the_training_metrics() -> None:
    assert {name for _, name in METRIC_TABLE} | {"epoch"} <= set(METRIC_NAMES)


def test_completed_email_answers_the_users_questions() -> None:
    email = render("training_completed")
    body = email.body
    assert email.subject == "[yolo] Completed: pets mAP50-95 0.612"
    assert email.attributes == {
        "status": "Completed",
        "dataset": "pets",
        "job": "yolo-pets-3f9a1c2e",
    }
    for expected in (
        "s3://yolo-datasets-123456789012/datasets/pets/",
        "mAP50-95   0.612",
        "mAP50      0.845",
        "precision  0.801",
        "recall     0.733",
        "Epochs run: 50 of 50 planned",
        "Training                 1h 02m 40s",
        "Billable time:     1,172 s",
        "Spot savings:      70%",
        "Approximate cost:  $0.24",
        "approximate",
        "aws s3 cp s3://yolo-datasets-123456789012/models/yolo-pets-3f9a1c2e/output/model.tar.gz .",
        "#/jobs/yolo-pets-3f9a1c2e",
        "logStreamNameFilter$3Dyolo-pets-3f9a1c2e",
    ):
        assert expected in body, expected
    assert "What to do" not in body
    assert "Failure reason" not in body


def test_failed_email_has_reason_verbatim_and_the_fix() -> None:
    email = render("training_failed")
    reason = load_event("training_failed")["detail"]["FailureReason"]
    assert email.subject == "[yolo] Failed: pets"
    assert email.attributes["status"] == "Failed"
    assert reason in email.body
    assert "lower batch (e.g. halve it) or imgsz" in email.body
    assert "Model: none" in email.body
    assert "No capacity" not in email.body  # "total capacity" in a CUDA message is not that


def test_stopped_max_runtime() -> None:
    email = render("training_stopped_max_runtime")
    assert email.subject == "[yolo] Stopped (max runtime): pets"
    assert email.attributes["status"] == "Stopped"
    assert "hit the maximum runtime" in email.body
    assert "MaxRuntimeHours" in email.body and "max_runtime_hours" in email.body
    assert "Epochs run: 37 of 50 planned" in email.body
    assert "Model (whatever was saved before the stop):" in email.body
    assert "Checkpoints saved before the end (last.pt): s3://" in email.body


def test_event_alone_still_gives_a_useful_email() -> None:
    """DescribeTrainingJob unavailable: the event's fields are enough for the essentials."""
    email = render_job_email(
        load_event("training_completed")["detail"], None, region="eu-west-1", prefix="cv"
    )
    assert email.subject == "[cv] Completed: pets"
    assert "Final metrics (validation set): none reported." in email.body
    assert "Billable time:     not reported" in email.body
    assert "managed spot" in email.body  # inferred from MaxWaitTimeInSeconds
    assert "eu-west-1.console.aws.amazon.com" in email.body


def test_minimal_detail_renders() -> None:
    email = render_job_email(
        {"TrainingJobName": "yolo-x-1", "TrainingJobStatus": "Failed"}, {}, region="us-east-1"
    )
    assert email.subject == "[yolo] Failed: yolo-x-1"
    assert "(unknown: the job has no dataset channel)" in email.body
    assert "Approximate cost:  unknown" in email.body


def test_dataset_falls_back_to_the_input_channel() -> None:
    detail = load_event("training_completed")["detail"]
    detail.pop("Tags")
    email = render_job_email(detail, None, region="us-east-1")
    assert email.attributes["dataset"] == "pets"


def test_tags_from_list_tags_in_described() -> None:
    detail = load_event("training_completed")["detail"]
    detail.pop("Tags")
    detail.pop("InputDataConfig")
    described = {"Tags": [{"Key": "yolo:dataset-uri", "Value": "s3://b/datasets/dogs/"}]}
    assert render_job_email(detail, described, region="us-east-1").attributes["dataset"] == "dogs"


def test_local_mode_shapes_render() -> None:
    """Local mode builds ``described`` from a local run: ISO strings, no spot, no tags."""
    detail = {"TrainingJobName": "local-run", "TrainingJobStatus": "Completed"}
    described = {
        "TrainingJobStatus": "Completed",
        "CreationTime": "2026-03-14T10:00:00Z",
        "TrainingEndTime": "2026-03-14T10:01:10Z",
        "SecondaryStatusTransitions": [
            {
                "Status": "Training",
                "StartTime": "2026-03-14T10:00:00Z",
                "EndTime": "2026-03-14T10:01:10Z",
            }
        ],
        "FinalMetricDataList": [
            {"MetricName": "val:mAP50", "Value": 0.99},
            {"MetricName": "epoch", "Value": 15},
        ],
        "ModelArtifacts": {"S3ModelArtifacts": "/tmp/work/model"},
        "ResourceConfig": {"InstanceType": "local", "InstanceCount": 1},
    }
    body = render_job_email(detail, described, region="us-east-1").body
    assert "Training                 1m 10s" in body
    assert "mAP50      0.990" in body
    assert "mAP50-95   -" in body
    assert "Epochs run: 15" in body
    assert "Model:\n  /tmp/work/model\n" in body
    assert "aws s3 cp" not in body  # a local path is not something to download from S3
    assert "no price for local x 1" in body


def test_local_model_archive_gets_an_unpack_command_not_a_download() -> None:
    detail = {"TrainingJobName": "yolo-shapes-1", "TrainingJobStatus": "Completed"}
    described = {"ModelArtifacts": {"S3ModelArtifacts": "/runs/x/output/model.tar.gz"}}
    body = render_job_email(detail, described, region="us-east-1").body
    assert "  Unpack it:\n    tar -xzf /runs/x/output/model.tar.gz" in body
    assert "aws s3 cp" not in body


@pytest.mark.parametrize(
    ("name", "expected_start"),
    [
        ("a" * 300, "[yolo] Completed: aaaa"),
        ("données-été-ñandú", "[yolo] Completed: donnees-ete-nandu"),
        ("猫と犬のデータセット", "[yolo] Completed: "),
        ("line\nbreak\ttab", "[yolo] Completed: line break tab"),
    ],
)
def test_subject_rules_for_long_and_unicode_names(name: str, expected_start: str) -> None:
    detail = load_event("training_completed")["detail"]
    detail["InputDataConfig"][0]["DataSource"]["S3DataSource"]["S3Uri"] = f"s3://b/datasets/{name}/"
    described = described_for("training_completed", InputDataConfig=None)
    subject = render_job_email(detail, described, region="us-east-1").subject
    assert subject.startswith(expected_start)
    assert subject.endswith(" mAP50-95 0.612")  # the metric survives truncation
    assert subject.isascii() and len(subject) < 100 and "\n" not in subject and "\r" not in subject


@settings(max_examples=60, deadline=None)
@given(
    name=st.text(max_size=200), status=st.sampled_from(["Completed", "Failed", "Stopped", "X", ""])
)
def test_any_dataset_name_gives_a_valid_subject(name: str, status: str) -> None:
    detail = {
        "TrainingJobName": "yolo-x-1",
        "TrainingJobStatus": status,
        "InputDataConfig": [
            {
                "ChannelName": "dataset",
                "DataSource": {"S3DataSource": {"S3Uri": f"s3://b/datasets/{name}/"}},
            }
        ],
    }
    email = render_job_email(detail, None, region="us-east-1")
    assert email.subject.isascii() and len(email.subject) < 100
    assert not any(c in email.subject for c in "\r\n")


@pytest.mark.parametrize(
    ("reason", "secondary", "expected"),
    [
        (
            "ResourceLimitExceeded: The account-level service limit"
            " 'ml.g4dn.xlarge for spot training job usage' is 0 Instances",
            "Failed",
            "request an increase of 'ml.g4dn.xlarge for spot training job usage'",
        ),
        ("AlgorithmError: RuntimeError: CUDA out of memory.", "Failed", "lower batch"),
        ("AlgorithmError: exit code 137 (Killed)", "Failed", "ran out of RAM"),
        ("ClientError: data.yaml: 'val' images not found", "Failed", "yolo-pipeline validate"),
        ("", "MaxRuntimeExceeded", "raise the limit"),
        ("", "MaxWaitTimeExceeded", "turn spot off"),
        ("CapacityError: Unable to provision ML compute capacity.", "Failed", "try again later"),
        ("ClientError: AccessDenied on s3://b/datasets/x/", "Failed", "Permissions"),
        ("", "Stopped", "Someone stopped the job"),
        (
            "AlgorithmError: The dataset changed after it was checked: the data SageMaker"
            " downloaded for this job is not the upload the launcher validated",
            "Failed",
            "The newer upload gets its own check",
        ),
    ],
)
def test_likely_fixes(reason: str, secondary: str, expected: str) -> None:
    status = "Failed" if secondary == "Failed" else "Stopped"
    fixes = likely_fixes(status, secondary, reason, "ml.g4dn.xlarge", spot=True)
    assert any(expected in fix for fix in fixes), fixes
    assert "CloudWatch logs" in fixes[-1]


def test_no_fixes_for_a_completed_job() -> None:
    assert likely_fixes("Completed", "Completed", "", "ml.g4dn.xlarge", spot=True) == []


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (None, "-"),
        (-1, "-"),
        (0, "0s"),
        (9.4, "9s"),
        (125, "2m 05s"),
        (3907, "1h 05m 07s"),
        (90000, "25h 00m 00s"),
    ],
)
def test_duration_text(seconds: float | None, text: str) -> None:
    assert duration_text(seconds) == text


def test_phase_durations_keep_spot_interruptions_visible() -> None:
    t0 = 1773482400000  # epoch ms, as in the events

    def ms(seconds: int) -> str:
        return str(t0 + seconds * 1000)

    job = {
        "TrainingEndTime": ms(1000),
        "SecondaryStatusTransitions": [
            {"Status": "Training", "StartTime": ms(0), "EndTime": ms(400)},
            {"Status": "Interrupted", "StartTime": ms(400), "EndTime": ms(500)},
            {"Status": "Training", "StartTime": ms(500)},
            {"Status": "Completed", "StartTime": ms(1000), "EndTime": ms(1000)},
        ],
    }
    assert phase_durations(job) == [
        ("Training", 400.0),
        ("Interrupted", 100.0),
        ("Training", 500.0),
    ]


def test_a_zip_and_a_nested_folder_are_named_as_the_launcher_names_them() -> None:
    from yolo_pipeline.notifier.job_facts import dataset_name

    # The launcher's tag wins (a nested folder keeps its path), else a zip loses ".zip".
    tagged = {"Tags": [{"Key": "yolo:dataset-name", "Value": "team/set"}]}
    assert dataset_name("s3://b/datasets/team/set/", "job", tagged) == "team/set"
    assert dataset_name("s3://b/datasets/shapes.zip", "job") == "shapes"
    assert dataset_name("s3://b/datasets/shapes/", "job") == "shapes"
