"""The settle rule: is the upload behind a data.yaml event finished, so the folder can be checked?

Real tools write a folder in their own order: the AWS CLI writes data.yaml among the first
objects (it walks the folder sorted), the console in no defined order. So a data.yaml event
alone does not mean the dataset is there. For each event, in this order:

- **superseded**: data.yaml under the key is no longer the object in the event (another
  write replaced it, or it is gone): drop the event; the newer write has its own event.
- **complete**: data.yaml carries ``x-amz-meta-yolo-upload: complete``, which
  ``yolo-pipeline upload`` sets on its last PUT: go on at once. The marker counts only for
  the upload's own write (the event's reason is PutObject or CompleteMultipartUpload): a
  copy (``aws s3 cp`` between prefixes, ``mv``, the console's Copy) keeps user metadata and
  writes data.yaml among its first objects, so a copy settles like any other tool.
- **settled**: nothing under the folder was modified in the last ``settle_seconds`` and no
  multipart upload is in progress under it (those are invisible to ListObjectsV2). A
  multipart upload started more than ``STALE_MULTIPART_SECONDS`` ago is what a killed
  ``aws s3 cp`` leaves: it is reported in the email (with the command that aborts it),
  never waited for.
- otherwise **not settled**: check again later (the service re-sends the same event to the
  launcher's queue with a delay). After ``max_settle_seconds`` of waiting the folder is
  checked as it stands, once, and the emails say it was still changing.

Pure: the service passes what S3 says (a head of data.yaml, a lazy listing, a lazy list of
multipart uploads) and does what the decision says. The listing is consumed only up to the
first recent object, so a check costs the listing pages up to that object: one page when
the recent object sorts early, but the tools write in key order (data.yaml first, the
newest objects last), so a busy sorted upload and a quiet folder cost their whole listing,
one ListObjectsV2 page per 1,000 objects (measured in the settle tests). That is the
price of knowing the folder is quiet; the multipart listing is one more request.
See docs/architecture.md ("The settle rule").
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from yolo_pipeline.contract import UPLOAD_COMPLETE_METADATA
from yolo_pipeline.launcher.s3_event import Upload

# SQS's own cap on DelaySeconds.
MAX_DELAY_SECONDS = 900
# S3's LastModified has one-second resolution (it is truncated): an object listed at
# second T may have been written up to a second later, so a window of N seconds is
# counted from T + 1.
TIMESTAMP_RESOLUTION_SECONDS = 1

# A multipart upload older than this is abandoned (a killed upload), not in progress.
STALE_MULTIPART_SECONDS = 24 * 3600
# The event reasons of an upload's own write of data.yaml (a copy's is CopyObject).
OWN_WRITE_REASONS = frozenset({"PutObject", "CompleteMultipartUpload"})

# SQS message attributes of a re-sent event: the body stays the S3 event, unchanged.
ATTEMPT_ATTRIBUTE = "yolo-settle-attempt"
SINCE_ATTRIBUTE = "yolo-settle-since"

Action = Literal["drop", "launch", "defer"]


@dataclass(frozen=True)
class Head:
    """data.yaml as S3 holds it now (HeadObject); ``None`` stands for "not there"."""

    etag: str
    version_id: str | None = None
    metadata: Mapping[str, str] | None = None


@dataclass(frozen=True)
class Stamp:
    """One listed object: its key and LastModified (timezone-aware)."""

    key: str
    last_modified: datetime


@dataclass(frozen=True)
class InProgress:
    """One multipart upload under the folder (ListMultipartUploads)."""

    key: str
    upload_id: str
    initiated: datetime

    def is_stale(self, now: float) -> bool:
        return now - self.initiated.timestamp() >= STALE_MULTIPART_SECONDS


@dataclass(frozen=True)
class Attempt:
    """How often, and since when, this event has been checked (carried on the message)."""

    number: int = 0
    since: float | None = None  # epoch seconds of the first check; None = this is it

    def elapsed(self, now: float) -> float:
        return 0.0 if self.since is None else max(0.0, now - self.since)

    def next(self, now: float) -> Attempt:
        return Attempt(self.number + 1, now if self.since is None else self.since)

    def to_message_attributes(self) -> dict[str, dict[str, str]]:
        """The SendMessage ``MessageAttributes`` that carry this attempt."""
        attributes = {ATTEMPT_ATTRIBUTE: {"DataType": "Number", "StringValue": str(self.number)}}
        if self.since is not None:
            attributes[SINCE_ATTRIBUTE] = {"DataType": "Number", "StringValue": f"{self.since:.3f}"}
        return attributes

    @classmethod
    def from_message_attributes(cls, attributes: Mapping[str, Mapping[str, str]]) -> Attempt:
        """Read an SQS record's ``messageAttributes``; an event straight from S3 has none."""

        def number(name: str) -> float | None:
            raw = (attributes.get(name) or {}).get("stringValue")
            try:
                value = float(raw) if raw is not None else None
            except ValueError:
                return None
            return value if value is not None and math.isfinite(value) else None

        attempt = number(ATTEMPT_ATTRIBUTE)
        if attempt is None or attempt < 0:
            return cls()
        return cls(int(attempt), number(SINCE_ATTRIBUTE))


@dataclass(frozen=True)
class Decision:
    action: Action
    reason: str
    delay_seconds: int = 0  # defer: SQS DelaySeconds of the re-sent event, as of ``now``
    waiting_key: str | None = None  # defer: the object that is still changing
    quiet_at: float = 0.0  # defer: when that object will have been quiet for the window
    still_changing: bool = False  # launch: MAX_SETTLE reached with the folder still busy
    stale_uploads: tuple[InProgress, ...] = ()  # launch: abandoned multipart uploads to report


def is_marked_complete(metadata: Mapping[str, str] | None) -> bool:
    name, value = UPLOAD_COMPLETE_METADATA
    # boto3 returns user metadata names lower-cased, without the x-amz-meta- prefix.
    return (metadata or {}).get(name, "").strip().lower() == value


def superseded_reason(upload: Upload, head: Head | None) -> str | None:
    """Why ``head`` is no longer the object of the event, or ``None`` when it still is."""
    if head is None:
        return f"{upload.key} is no longer there"
    if upload.version_id and head.version_id and upload.version_id != head.version_id:
        return f"{upload.key} was replaced (version {head.version_id} is newer)"
    etag = head.etag.strip('"')
    if upload.etag and etag and upload.etag != etag:
        return f"{upload.key} was replaced (ETag {etag} differs from the event's)"
    return None


def quiet_from(last_modified: datetime, settle_seconds: int) -> float:
    """When an object listed with ``last_modified`` has been quiet for the window."""
    return last_modified.timestamp() + TIMESTAMP_RESOLUTION_SECONDS + settle_seconds


def first_recent(objects: Iterable[Stamp], now: float, settle_seconds: int) -> Stamp | None:
    """The first object modified within the window; stops consuming ``objects`` there."""
    for stamp in objects:
        if quiet_from(stamp.last_modified, settle_seconds) > now:
            return stamp
    return None


def defer_seconds(quiet_at: float, now: float, settle_seconds: int) -> int:
    """Delay before the next check: until the object found turns quiet, at most
    ``min(900, settle_seconds)`` (docs/architecture.md), at least one second."""
    cap = min(MAX_DELAY_SECONDS, settle_seconds)
    return max(1, min(cap, math.ceil(quiet_at - now)))


def counts_as_marked(upload: Upload, head: Head) -> bool:
    """The completion marker, on the upload's own write only (never on a copy's)."""
    return upload.reason in OWN_WRITE_REASONS and is_marked_complete(head.metadata)


def _still_changing(
    objects: Iterable[Stamp],
    uploads_in_progress: Iterable[InProgress],
    now: float,
    settle_seconds: int,
    stale: list[InProgress],
) -> tuple[str, float, str] | None:
    """(key still changing, when it may be quiet, why), or ``None`` when the folder is quiet.

    The multipart listing is only asked for when the object listing found nothing recent;
    abandoned uploads found there go to ``stale`` instead of holding the folder.
    """
    if recent := first_recent(objects, now, settle_seconds):
        why = f"{recent.key} was modified less than {settle_seconds} s ago"
        return recent.key, quiet_from(recent.last_modified, settle_seconds), why
    for upload in uploads_in_progress:
        if upload.is_stale(now):
            stale.append(upload)
            continue
        why = f"a multipart upload of {upload.key} is in progress"
        return upload.key, now + settle_seconds, why
    return None


def decide(
    upload: Upload,
    head: Head | None,
    objects: Iterable[Stamp],
    uploads_in_progress: Iterable[InProgress],
    *,
    now: float,
    attempt: Attempt,
    settle_seconds: int,
    max_settle_seconds: int,
) -> Decision:
    """What to do with one data.yaml event now (see the module docstring)."""
    if reason := superseded_reason(upload, head):
        return Decision("drop", reason)
    assert head is not None  # superseded_reason says "gone" otherwise
    if upload.is_zip:
        return Decision("launch", "a zip is one object: complete when it arrives")
    if counts_as_marked(upload, head):
        return Decision("launch", "data.yaml is marked complete by yolo-pipeline upload")
    if settle_seconds == 0:
        return Decision("launch", "SETTLE_SECONDS is 0: no waiting")

    stale: list[InProgress] = []
    busy = _still_changing(objects, uploads_in_progress, now, settle_seconds, stale)
    if busy is None:
        quiet = f"nothing changed under the folder for {settle_seconds} s"
        return Decision("launch", quiet, stale_uploads=tuple(stale))
    busy_key, quiet_at, why = busy
    if attempt.elapsed(now) >= max_settle_seconds:
        return Decision(
            "launch",
            f"still changing after {max_settle_seconds} s ({why}): checked as it stands",
            still_changing=True,
            stale_uploads=tuple(stale),
        )
    return Decision(
        "defer",
        why,
        delay_seconds=defer_seconds(quiet_at, now, settle_seconds),
        waiting_key=busy_key,
        quiet_at=quiet_at,
    )
