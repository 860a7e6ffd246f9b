"""The settle rule as a pure decision: superseded, complete, settled, deferred, max reached."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from typing import Any

import pytest

from yolo_pipeline.aws.env import SettingsError
from yolo_pipeline.findings import error
from yolo_pipeline.launcher.emails import looks_incomplete, render_rejection
from yolo_pipeline.launcher.s3_event import Upload
from yolo_pipeline.launcher.settings import LauncherSettings
from yolo_pipeline.launcher.settle import (
    ATTEMPT_ATTRIBUTE,
    SINCE_ATTRIBUTE,
    STALE_MULTIPART_SECONDS,
    Attempt,
    Decision,
    Head,
    InProgress,
    Stamp,
    decide,
    defer_seconds,
    is_marked_complete,
    superseded_reason,
)

NOW = 1_800_000_000.0
UPLOAD = Upload(
    bucket="b", key="datasets/s/data.yaml", sequencer="01", etag="abc", reason="PutObject"
)
HEAD = Head(etag='"abc"', metadata={})
FIRST = Attempt()


def _at(seconds_ago: float) -> datetime:
    # LastModified as S3 lists it: whole seconds.
    return datetime.fromtimestamp(int(NOW - seconds_ago), UTC)


def _decide(
    head: Head | None = HEAD,
    objects: Iterable[Stamp] = (),
    uploads: Iterable[InProgress] = (),
    *,
    attempt: Attempt = FIRST,
    settle: int = 60,
    max_settle: int = 3600,
    upload: Upload = UPLOAD,
) -> Decision:
    return decide(
        upload,
        head,
        objects,
        uploads,
        now=NOW,
        attempt=attempt,
        settle_seconds=settle,
        max_settle_seconds=max_settle,
    )


def _never() -> Iterator[Any]:
    raise AssertionError("must not be consulted")
    yield ""  # pragma: no cover


@pytest.mark.parametrize(
    ("upload", "head", "superseded"),
    [
        (UPLOAD, HEAD, False),
        (UPLOAD, Head(etag="abc"), False),  # quotes or not
        (UPLOAD, Head(etag='"def"'), True),
        (UPLOAD, None, True),  # gone
        (Upload("b", "datasets/s/data.yaml", "01", etag=""), Head(etag="x"), False),
        (Upload("b", "datasets/s/data.yaml", "01", "abc", "v1"), Head("abc", "v1"), False),
        (Upload("b", "datasets/s/data.yaml", "01", "abc", "v1"), Head("abc", "v2"), True),
    ],
)
def test_superseded_compares_version_and_etag(
    upload: Upload, head: Head | None, superseded: bool
) -> None:
    assert (superseded_reason(upload, head) is not None) is superseded


def test_a_superseded_event_is_dropped_without_listing() -> None:
    decision = _decide(Head(etag="other"), _never(), _never())
    assert decision.action == "drop" and "replaced" in decision.reason


def test_the_cli_metadata_launches_at_once_without_listing() -> None:
    assert is_marked_complete({"yolo-upload": "complete"})
    assert not is_marked_complete({"yolo-upload": "partial"}) and not is_marked_complete(None)
    head = Head(etag="abc", metadata={"yolo-upload": "complete"})
    assert _decide(head, _never(), _never()).action == "launch"


def test_settle_zero_never_waits() -> None:
    assert _decide(objects=[Stamp("k", _at(0))], settle=0).action == "launch"


def test_a_quiet_folder_with_no_multipart_upload_is_settled() -> None:
    objects = [Stamp("datasets/s/data.yaml", _at(300)), Stamp("datasets/s/images/a.jpg", _at(62))]
    decision = _decide(objects=objects, uploads=[])
    assert decision == Decision("launch", "nothing changed under the folder for 60 s")


def test_the_listing_stops_at_the_first_recent_object() -> None:
    consumed: list[str] = []

    def listing() -> Iterator[Stamp]:
        for key, ago in [("a", 400), ("b", 10), ("c", 0)]:
            consumed.append(key)
            yield Stamp(key, _at(ago))

    decision = _decide(objects=listing(), uploads=_never())
    assert consumed == ["a", "b"]
    assert decision.action == "defer" and decision.waiting_key == "b"
    # b turns quiet 60 s (+1 s for LastModified's resolution) after it was written.
    assert decision.delay_seconds == 51


def test_one_second_of_timestamp_resolution_counts_as_recent() -> None:
    assert _decide(objects=[Stamp("a", _at(60))]).action == "defer"
    assert _decide(objects=[Stamp("a", _at(61))]).action == "launch"


def test_a_multipart_upload_in_progress_defers_for_a_full_window() -> None:
    live = InProgress("datasets/s/big.jpg", "u1", _at(3600))
    decision = _decide(objects=[Stamp("a", _at(600))], uploads=iter([live]))
    assert decision.action == "defer" and "multipart" in decision.reason
    assert decision.delay_seconds == 60 and decision.waiting_key == "datasets/s/big.jpg"


def test_an_abandoned_multipart_upload_is_reported_not_waited_for() -> None:
    stale = InProgress("datasets/s/old.jpg", "u0", _at(STALE_MULTIPART_SECONDS + 1))
    decision = _decide(objects=[Stamp("a", _at(600))], uploads=[stale])
    assert decision.action == "launch" and decision.stale_uploads == (stale,)
    # A live one behind it still holds the folder.
    live = InProgress("datasets/s/new.jpg", "u1", _at(10))
    assert _decide(objects=[Stamp("a", _at(600))], uploads=[stale, live]).action == "defer"


@pytest.mark.parametrize("reason", ["CopyObject", ""])
def test_the_completion_marker_counts_only_for_the_uploads_own_write(reason: str) -> None:
    head = Head(etag="abc", metadata={"yolo-upload": "complete"})
    copied = Upload(bucket="b", key="datasets/s/data.yaml", sequencer="01", etag="abc",
                    reason=reason)  # fmt: skip
    decision = _decide(head, [Stamp("datasets/s/images/a.jpg", _at(5))], upload=copied)
    assert decision.action == "defer"
    for own in ("PutObject", "CompleteMultipartUpload"):
        mine = Upload(bucket="b", key="datasets/s/data.yaml", sequencer="01", etag="abc",
                      reason=own)  # fmt: skip
        assert _decide(head, _never(), _never(), upload=mine).action == "launch"


@pytest.mark.parametrize(
    ("quiet_in", "settle", "expected"),
    [(61, 60, 60), (0.2, 60, 1), (-5, 60, 1), (30.5, 60, 31), (5000, 3600, 900)],
)
def test_the_delay_is_capped_at_min_900_settle(quiet_in: float, settle: int, expected: int) -> None:
    assert defer_seconds(NOW + quiet_in, NOW, settle) == expected


def test_after_max_settle_the_folder_is_checked_as_it_stands() -> None:
    busy = [Stamp("a", _at(1))]
    waiting = Attempt(number=50, since=NOW - 3599)
    assert _decide(objects=busy, attempt=waiting).action == "defer"
    decision = _decide(objects=busy, attempt=Attempt(number=51, since=NOW - 3600))
    assert decision.action == "launch" and decision.still_changing
    assert "still changing after 3600 s" in decision.reason
    # Quiet at that point: an ordinary launch, no "still changing".
    quiet = _decide(objects=[Stamp("a", _at(100))], attempt=Attempt(51, NOW - 3600))
    assert quiet.action == "launch" and not quiet.still_changing


def test_attempts_travel_as_message_attributes() -> None:
    first = Attempt()
    assert first.elapsed(NOW) == 0
    following = first.next(NOW)
    assert following == Attempt(1, NOW)
    attributes = following.to_message_attributes()
    assert attributes[ATTEMPT_ATTRIBUTE] == {"DataType": "Number", "StringValue": "1"}
    # What Lambda hands the function: camelCase keys.
    received = {
        name: {"stringValue": value["StringValue"], "dataType": value["DataType"]}
        for name, value in attributes.items()
    }
    assert Attempt.from_message_attributes(received) == following
    assert following.next(NOW + 60) == Attempt(2, NOW)
    assert Attempt.from_message_attributes({}) == Attempt()
    bad = {ATTEMPT_ATTRIBUTE: {"stringValue": "x"}, SINCE_ATTRIBUTE: {"stringValue": "nan"}}
    assert Attempt.from_message_attributes(bad) == Attempt()


def test_settings_need_the_queue_unless_settling_is_off() -> None:
    env = {
        "TRAINING_IMAGE_URI": "i",
        "SAGEMAKER_ROLE_ARN": "r",
        "NOTIFICATION_TOPIC_ARN": "t",
        "IDEMPOTENCY_TABLE": "d",
        "OUTPUT_S3_URI": "s3://o/",
        "CHECKPOINT_S3_URI": "s3://c/",
    }
    with pytest.raises(SettingsError, match="LAUNCH_QUEUE_URL"):
        LauncherSettings.from_env(env)
    settings = LauncherSettings.from_env({**env, "LAUNCH_QUEUE_URL": "https://q"})
    assert (settings.settle_seconds, settings.max_settle_seconds) == (60, 21600)
    off = LauncherSettings.from_env({**env, "SETTLE_SECONDS": "0"})
    assert off.settle_seconds == 0 and off.launch_queue_url == ""
    with pytest.raises(SettingsError, match="SETTLE_SECONDS"):
        LauncherSettings.from_env({**env, "SETTLE_SECONDS": "-1"})


def test_a_rejection_for_missing_files_says_upload_what_is_missing_then_data_yaml() -> None:
    missing = [error("data.yaml", "'images/val' does not exist in the dataset", field="val")]
    assert looks_incomplete(missing)
    body = render_rejection(dataset_uri="s3://b/datasets/s/", errors=missing).body
    assert "Upload what is missing" in body and "upload data.yaml again" in body
    assert "aws s3 sync ./your-dataset s3://b/datasets/s/" in body
    wrong = [error("labels/train/a.txt", "class 7 is out of range", line=1)]
    assert not looks_incomplete(wrong)
    assert (
        "Upload what is missing"
        not in render_rejection(dataset_uri="s3://b/datasets/s/", errors=wrong).body
    )
