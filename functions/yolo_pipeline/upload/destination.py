"""Where an upload goes: ``s3://bucket/datasets/<name>/`` or ``.../datasets/<name>.zip``."""

from __future__ import annotations

import re

from yolo_pipeline.contract import ZIP_SUFFIX
from yolo_pipeline.text import quote
from yolo_pipeline.upload.errors import UploadError

_DEST_PATTERN = re.compile(r"^s3://(?P<bucket>[a-z0-9][a-z0-9.\-]{1,61}[a-z0-9])/(?P<key>.*)$")
_DATASET_PREFIX = re.compile(r"^datasets/[^/]+/$")
_ZIP_KEY = re.compile(r"^datasets/[^/]+\.zip$")


def parse_destination(uri: str) -> tuple[str, str]:
    """``s3://bucket/datasets/<name>/`` -> (bucket, ``datasets/<name>/``); raises UploadError."""
    match = _DEST_PATTERN.match(uri.strip())
    if not match:
        raise UploadError(
            f"destination {quote(uri)} is not an S3 URI: use s3://<DatasetBucket>/datasets/<name>/"
        )
    key = match["key"].lstrip("/")
    if key and not key.endswith("/"):
        key += "/"
    if key.count("/") < 2:
        raise UploadError(
            f"destination {quote(uri)} names no dataset folder: the launcher fires on "
            f"<DatasetPrefix><name>/data.yaml, so use s3://{match['bucket']}/datasets/<name>/"
        )
    return match["bucket"], key


def prefix_note(prefix: str) -> str:
    """A warning when the folder is outside the stack's default DatasetPrefix."""
    if _DATASET_PREFIX.match(prefix):
        return ""
    return (
        f"note: {prefix} is not datasets/<name>/; the launcher only sees it if the stack's "
        "DatasetPrefix parameter covers it (default datasets/)."
    )


def parse_zip_destination(uri: str) -> tuple[str, str]:
    """``s3://bucket/datasets/<name>.zip`` -> (bucket, key); raises UploadError."""
    match = _DEST_PATTERN.match(uri.strip())
    key = match["key"].lstrip("/") if match else ""
    if not match or not key.lower().endswith(ZIP_SUFFIX) or "/" not in key.rstrip("/"):
        raise UploadError(
            f"destination {uri!r} is not a zip key: use s3://<DatasetBucket>/datasets/<name>.zip"
        )
    if len(key.rsplit("/", 1)[-1]) <= len(ZIP_SUFFIX):
        raise UploadError(f"destination {uri!r} names no dataset: use .../datasets/<name>.zip")
    if not key.endswith(ZIP_SUFFIX):  # S3 events match a case-sensitive *.zip
        raise UploadError(
            f"destination {uri!r} ends in {key[-4:]!r}: name it with a lower-case .zip, "
            "the only ending that starts a check"
        )
    return match["bucket"], key


def zip_key_note(key: str) -> str:
    """A warning when the zip is outside the stack's default DatasetPrefix."""
    if _ZIP_KEY.match(key):
        return ""
    note = "the launcher only sees it if the stack's DatasetPrefix covers it (default datasets/)"
    return f"note: {key} is not datasets/<name>.zip; {note}."
