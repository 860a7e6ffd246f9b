"""Emails always go out: bounded, no control characters from users or events,
subjects SNS accepts, and a job-email renderer that is total."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.support.helpers import load_event
from tests.support.hostile import assert_sns_accepts
from tests.support.notifier_world import described_for
from yolo_pipeline.aws.email import BODY_MAX_BYTES, Email, subject_line
from yolo_pipeline.dataset.validation import DatasetStats
from yolo_pipeline.findings import error
from yolo_pipeline.launcher.emails import render_rejection, render_started
from yolo_pipeline.launcher.s3_event import Ignored, Upload, parse_upload
from yolo_pipeline.notifier.emails import render_job_email
from yolo_pipeline.notifier.sagemaker_event import MalformedEvent, parse_state_change
from yolo_pipeline.text import quote

INJECTION = "cats\r\nURGENT: sign in at https://evil.example/\x1b[2J\x00"


def _body_lines(email: Email) -> list[str]:
    return email.body.splitlines()


def test_quote_is_bounded_inert_and_never_a_repr_dump() -> None:
    assert quote("x" * 900_000).endswith("...'") and len(quote("x" * 900_000)) <= 80
    assert quote("a\r\nb\x1b") == "'a\\r\\nb\\x1b'"
    assert quote(int("9" * 4000) ** 2).startswith("<an integer of about")
    assert len(quote(list(range(1_000_000)))) <= 80


def test_subject_has_no_control_characters() -> None:
    subject = subject_line("yolo", "Dataset rejected", "a\x1bb\x00c\x7fd\r\ne")
    assert subject == "[yolo] Dataset rejected: a b c d e"


def test_folder_name_with_crlf_cannot_inject_lines() -> None:
    uri = f"s3://b/datasets/{INJECTION}/"
    for email in (
        render_rejection(dataset_uri=uri, errors=[error("data.yaml", "train: is required")]),
        render_started(
            dataset_uri=uri,
            job_name="yolo-cats-1",
            region="us-east-1",
            instance_type="ml.g4dn.xlarge",
            spot=True,
            max_runtime_seconds=3600,
            stats=DatasetStats(names=(INJECTION,), classes=1),
            train_args={"epochs": INJECTION},
        ),
    ):
        assert_sns_accepts(email)
        assert not any(line.startswith("URGENT") for line in _body_lines(email))


def test_rejection_with_huge_and_many_findings_stays_under_sns_limit() -> None:
    path = "a/" * 450_000  # a 900,000-character split path
    errors = [error("data.yaml", f"{quote(path)} does not exist", field="train")]
    errors += [error(f"labels/{i}.txt", "x" * 5000, hint="y" * 5000) for i in range(500)]
    email = render_rejection(dataset_uri="s3://b/datasets/x/", errors=errors)
    assert_sns_accepts(email)
    assert "more problems" in email.body
    assert len(email.body.encode()) <= BODY_MAX_BYTES + 100


def _job(**detail: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    event_detail = load_event("training_completed")["detail"]
    event_detail.update(detail)
    return event_detail, described_for("training_completed")


@pytest.mark.parametrize("metric", [float("inf"), float("-inf"), float("nan"), 1e308, -0.0, 10**30])
def test_any_metric_value_renders(metric: float) -> None:
    detail, described = _job()
    described["FinalMetricDataList"] = [
        {"MetricName": "val:mAP50-95", "Value": metric},
        {"MetricName": "epoch", "Value": metric},
    ]
    described["TrainingTimeInSeconds"] = metric if isinstance(metric, int) else 10
    assert_sns_accepts(render_job_email(detail, described, region="us-east-1"))


@pytest.mark.parametrize("epochs", ["1e309", "nan", "-inf", "9" * 5000, "", "x\r\ny"])
def test_absurd_hyperparameters_render(epochs: str) -> None:
    detail, described = _job()
    described["HyperParameters"] = {"epochs": epochs}
    email = render_job_email(detail, described, region="us-east-1")
    assert_sns_accepts(email)


def test_failure_reason_and_tags_are_neutralised() -> None:
    detail, described = _job(
        TrainingJobStatus="Failed", FailureReason="boom\r\nURGENT: call\x1b\x00" + "z" * 5000
    )
    described["TrainingJobStatus"] = "Failed"
    described["InputDataConfig"][0]["DataSource"]["S3DataSource"]["S3Uri"] = (
        f"s3://b/datasets/{INJECTION}/"
    )
    email = render_job_email(detail, described, region="us-east-1")
    assert_sns_accepts(email)
    assert not any(line.startswith("URGENT") for line in _body_lines(email))


def test_dataset_uri_comes_from_the_input_channel_not_a_cut_tag() -> None:
    long_name = "n" * 300
    uri = f"s3://b/datasets/{long_name}/"
    detail, described = _job()
    detail["Tags"]["yolo:dataset-uri"] = uri[:256]  # SageMaker cuts tag values at 256
    described["InputDataConfig"][0]["DataSource"]["S3DataSource"]["S3Uri"] = uri
    email = render_job_email(detail, described, region="us-east-1")
    assert f"Dataset:  {uri}" in email.body
    assert email.attributes["dataset"] == long_name


_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=30),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner),
    max_leaves=20,
)


def _mutations() -> st.SearchStrategy[dict[str, Any]]:
    base = load_event("dataset_uploaded")
    paths = [("detail",), ("detail", "object"), ("detail", "bucket"), ("detail", "object", "key")]
    paths += [("detail", "object", "size"), ("detail", "object", "sequencer"), ("source",)]

    def mutate(choice: tuple[tuple[str, ...], Any, bool]) -> dict[str, Any]:
        path, value, delete = choice
        event = copy.deepcopy(base)
        target: Any = event
        for key in path[:-1]:
            target = target[key]
        if delete:
            target.pop(path[-1], None)
        else:
            target[path[-1]] = value
        return event

    return st.tuples(st.sampled_from(paths), _json, st.booleans()).map(mutate)


@settings(max_examples=300, deadline=None)
@given(st.one_of(_mutations(), _json))
def test_any_launcher_event_gives_an_upload_or_a_reason(event: Any) -> None:
    parsed = parse_upload(event, "datasets/")
    assert isinstance(parsed, Upload | Ignored)
    if isinstance(parsed, Ignored):
        assert len(parsed.reason) < 500


@pytest.mark.parametrize(
    "event",
    [
        {"source": "aws.s3", "detail-type": "Object Created"},
        {"source": "aws.s3", "detail-type": "Object Created", "detail": "x"},
        {"source": "aws.s3", "detail-type": "Object Created", "detail": {"object": []}},
    ],
)
def test_malformed_launcher_events_are_ignored_with_a_reason(event: dict[str, Any]) -> None:
    parsed = parse_upload(event, "datasets/")
    assert isinstance(parsed, Ignored) and parsed.reason.startswith("malformed event")


@settings(max_examples=200, deadline=None)
@given(
    detail=st.dictionaries(
        st.sampled_from(
            [
                "TrainingJobName",
                "TrainingJobStatus",
                "SecondaryStatus",
                "FailureReason",
                "Tags",
                "HyperParameters",
                "FinalMetricDataList",
                "TrainingTimeInSeconds",
                "ResourceConfig",
                "InputDataConfig",
                "CreationTime",
            ]
        ),
        _json,
    )
)
def test_any_notifier_event_gives_an_email_or_a_reason(detail: dict[str, Any]) -> None:
    event = {"source": "aws.sagemaker", "detail-type": "SageMaker Training Job State Change"}
    event["detail"] = detail  # type: ignore[assignment]
    try:
        change = parse_state_change(event)
    except MalformedEvent:
        return
    assert_sns_accepts(render_job_email(change.detail, detail, region="us-east-1"))
