"""The settle rule's I/O: what S3 says about an upload, fed to the pure decision
(launcher/settle.py)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from botocore.exceptions import ClientError

from yolo_pipeline.aws.errors import error_code
from yolo_pipeline.launcher.s3_event import Upload
from yolo_pipeline.launcher.settings import LauncherSettings
from yolo_pipeline.launcher.settle import Attempt, Decision, Head, InProgress, Stamp, decide


def head(s3: Any, bucket: str, key: str) -> Head | None:
    """data.yaml as it is now; ``None`` when it is gone. Other S3 errors raise (retry)."""
    try:
        response = s3.head_object(Bucket=bucket, Key=key)
    except ClientError as exc:
        if error_code(exc) in {"404", "NoSuchKey", "NotFound"}:
            return None
        raise
    return Head(
        etag=str(response.get("ETag", "")),
        version_id=response.get("VersionId"),
        metadata=response.get("Metadata") or {},
    )


def stamps(s3: Any, bucket: str, folder: str) -> Iterator[Stamp]:
    """The folder's objects, page by page, as the settle rule consumes them (lazily)."""
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=folder):
        for obj in page.get("Contents", []):
            yield Stamp(obj["Key"], obj["LastModified"])


def uploads_in_progress(s3: Any, bucket: str, folder: str) -> Iterator[InProgress]:
    """Multipart uploads under the folder, one page (1,000) at most: the abandoned ones are
    skipped by the rule, so it reads on until a live one or the end of the page."""
    response = s3.list_multipart_uploads(Bucket=bucket, Prefix=folder)
    for upload in response.get("Uploads", []):
        yield InProgress(str(upload["Key"]), str(upload["UploadId"]), upload["Initiated"])


def settle(
    s3: Any, upload: Upload, attempt: Attempt, settings: LauncherSettings, now: float
) -> Decision:
    """Drop, defer or launch, from the upload's data.yaml and folder as S3 has them now."""
    return decide(
        upload,
        head(s3, upload.bucket, upload.key),
        stamps(s3, upload.bucket, upload.folder),
        uploads_in_progress(s3, upload.bucket, upload.folder),
        now=now,
        attempt=attempt,
        settle_seconds=settings.settle_seconds,
        max_settle_seconds=settings.max_settle_seconds,
    )
