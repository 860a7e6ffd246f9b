"""Tolerant parsing of SageMaker training-job state changes."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.support.helpers import load_event
from yolo_pipeline.notifier.sagemaker_event import (
    MalformedEvent,
    as_datetime,
    normalise_tags,
    parse_state_change,
    skip_reason,
)


def test_parse_completed_event() -> None:
    change = parse_state_change(load_event("training_completed"))
    assert change.job_name == "yolo-pets-3f9a1c2e"
    assert change.status == "Completed"
    assert change.region == "us-east-1"
    assert change.tags["yolo:dataset-uri"] == "s3://yolo-datasets-123456789012/datasets/pets/"
    assert change.is_terminal


def test_tags_as_list_are_read_like_tags_as_object() -> None:
    failed = parse_state_change(load_event("training_failed"))
    assert isinstance(load_event("training_failed")["detail"]["Tags"], list)
    assert failed.tags["yolo:pipeline"] == "yolo-on-upload"


@pytest.mark.parametrize(
    ("tags", "expected"),
    [
        ({"a": "1", "b": 2}, {"a": "1", "b": "2"}),
        ([{"Key": "a", "Value": "1"}], {"a": "1"}),
        ([{"key": "a", "value": "1"}, {"Key": "no-value"}, "junk", None], {"a": "1"}),
        (None, {}),
        ("a=1", {}),
        ({"a": None}, {}),
    ],
)
def test_normalise_tags(tags: Any, expected: dict[str, str]) -> None:
    assert normalise_tags(tags) == expected


@pytest.mark.parametrize(
    "value",
    [
        "1773482400000",
        1773482400000,
        1773482400,
        "1773482400.0",
        "2026-03-14T10:00:00Z",
        "2026-03-14T10:00:00+00:00",
        datetime(2026, 3, 14, 10, 0, tzinfo=UTC),
        datetime(2026, 3, 14, 10, 0),
    ],
)
def test_as_datetime_accepts_every_time_shape(value: Any) -> None:
    assert as_datetime(value) == datetime(2026, 3, 14, 10, 0, tzinfo=UTC)


@pytest.mark.parametrize("value", [None, "", "  ", "yesterday", True, [], {}, "1e400", 10**30])
def test_as_datetime_gives_none_for_junk(value: Any) -> None:
    assert as_datetime(value) is None


@given(st.one_of(st.none(), st.integers(), st.floats(), st.text(), st.booleans()))
def test_as_datetime_never_raises(value: Any) -> None:
    result = as_datetime(value)
    assert result is None or result.tzinfo is not None


@pytest.mark.parametrize(
    ("event", "message"),
    [
        (None, "not a JSON object"),
        ([], "not a JSON object"),
        ({}, "not a training job state change"),
        ({"source": "aws.s3", "detail-type": "Object Created", "detail": {}}, "source='aws.s3'"),
        (
            {"source": "aws.sagemaker", "detail-type": "SageMaker Training Job State Change"},
            "no 'detail' object",
        ),
        (
            {
                "source": "aws.sagemaker",
                "detail-type": "SageMaker Training Job State Change",
                "detail": {"TrainingJobStatus": "Completed"},
            },
            "TrainingJobName is missing",
        ),
        (
            {
                "source": "aws.sagemaker",
                "detail-type": "SageMaker Training Job State Change",
                "detail": {"TrainingJobName": "yolo-x", "TrainingJobStatus": 3},
            },
            "TrainingJobStatus is missing",
        ),
    ],
)
def test_malformed_events_say_what_is_wrong(event: Any, message: str) -> None:
    with pytest.raises(MalformedEvent, match=message.replace("(", r"\(").replace(")", r"\)")):
        parse_state_change(event)


def test_minimal_event_parses_without_optional_fields() -> None:
    change = parse_state_change(
        {
            "source": "aws.sagemaker",
            "detail-type": "SageMaker Training Job State Change",
            "detail": {"TrainingJobName": "yolo-x-1", "TrainingJobStatus": "Failed"},
        }
    )
    assert (change.secondary_status, change.region, change.tags) == ("", "", {})


@pytest.mark.parametrize(
    ("event_name", "prefix", "skipped"),
    [
        ("training_completed", "yolo", False),
        ("training_failed", "yolo", False),
        ("training_stopped_max_runtime", "yolo", False),
        ("training_in_progress", "yolo", True),
        ("training_completed", "other", True),
        ("training_completed", "yolo-pets-3f9a1c2e", True),  # the prefix needs its hyphen
    ],
)
def test_skip_reason(event_name: str, prefix: str, skipped: bool) -> None:
    reason = skip_reason(parse_state_change(load_event(event_name)), prefix)
    assert (reason is not None) is skipped


@pytest.mark.parametrize("status", ["Stopping", "InProgress", "Deleting"])
def test_non_terminal_states_are_skipped(status: str) -> None:
    event = load_event("training_completed")
    event["detail"]["TrainingJobStatus"] = status
    assert skip_reason(parse_state_change(event), "yolo") == f"status {status} is not terminal"
