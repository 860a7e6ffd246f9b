"""What the launcher validates is what the job trains on.

Two halves, both here:

- **Reads pinned to the event.** The event names one object (data.yaml, or the dataset zip)
  by version id (versioned buckets) and ETag. Every read of that object asks for exactly it
  (``VersionId``, ``IfMatch``), never for whatever a fresh HEAD finds: an object replaced
  after the event is found superseded (its newer write has its own event) instead of being
  validated under the older write's name.
- **The digest** (dataset/digest.py) of what was validated, computed from the reads the
  check makes anyway: a zip's central directory (name, size, CRC-32 of every entry), or a
  folder's listing (path and size of every file) with the content of its hashed files.
  The job carries it in its Environment; the training container recomputes it on its
  channel and refuses to train on anything else.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from typing import Any

from botocore.exceptions import ClientError

from yolo_pipeline.aws.errors import error_code
from yolo_pipeline.dataset.digest import (
    DigestEntry,
    dataset_digest,
    is_hashed,
    sha256_fingerprint,
)
from yolo_pipeline.dataset.storage.base import FileInfo, StorageError

# S3's answers when the object named in the event is no longer the one under the key.
_GONE = {"PreconditionFailed", "412", "NoSuchKey", "NoSuchVersion", "404", "NotFound"}
_HASH_CHUNK = 1024 * 1024


class UploadSuperseded(StorageError):
    """The object the event named was replaced or deleted: the newer write has its own event."""


class PinnedClient:
    """An S3 client whose reads of one key name the event's version and ETag.

    Everything else goes to the wrapped client unchanged (listings, other keys, the
    client's configuration that the bulk reader borrows).
    """

    def __init__(self, client: Any, bucket: str, key: str, etag: str, version_id: str | None):
        self._client = client
        self._bucket, self._key = bucket, key
        self._pin: dict[str, str] = {}
        if version_id:
            self._pin["VersionId"] = version_id
        if etag:
            self._pin["IfMatch"] = f'"{etag.strip(chr(34))}"'

    def __getattr__(self, name: str) -> Any:
        return getattr(self._client, name)

    def _pinned(self, operation: str, kwargs: dict[str, Any]) -> Any:
        if kwargs.get("Bucket") != self._bucket or kwargs.get("Key") != self._key:
            return getattr(self._client, operation)(**kwargs)
        try:
            return getattr(self._client, operation)(**{**kwargs, **self._pin})
        except ClientError as exc:
            if error_code(exc) in _GONE:
                raise UploadSuperseded(
                    f"s3://{self._bucket}/{self._key} is no longer the object of this event"
                ) from exc
            raise

    def head_object(self, **kwargs: Any) -> Any:
        return self._pinned("head_object", kwargs)

    def get_object(self, **kwargs: Any) -> Any:
        return self._pinned("get_object", kwargs)


class DigestRecorder:
    """Collects the content fingerprints of hashed files as the check reads them."""

    def __init__(self) -> None:
        self.fingerprints: dict[str, tuple[int, str]] = {}  # path -> (bytes seen, sha256)

    def saw(self, path: str, data: bytes) -> None:
        if is_hashed(path):
            self.fingerprints[path] = (len(data), sha256_fingerprint(data))

    def missing(self, files: Iterable[FileInfo]) -> list[FileInfo]:
        """Hashed files the check did not read whole (their content still has to be read)."""
        return [
            f
            for f in files
            if is_hashed(f.path) and self.fingerprints.get(f.path, (-1, ""))[0] != f.size
        ]

    def folder_digest(self, files: Iterable[FileInfo]) -> str:
        entries = []
        for f in files:
            seen = self.fingerprints.get(f.path)
            fingerprint = seen[1] if seen and seen[0] == f.size and is_hashed(f.path) else ""
            entries.append(DigestEntry(as_downloaded(f.path), f.size, fingerprint))
        return dataset_digest(entries)


def as_downloaded(key_path: str) -> str:
    """The path a key below the prefix gets on the instance's disk: empty and ``.`` parts
    (``images//a.jpg``) do not survive a download, so they do not enter the digest."""
    return "/".join(part for part in key_path.split("/") if part not in ("", "."))


def hash_object(client: Any, bucket: str, key: str) -> tuple[int, str]:
    """(size, sha256 fingerprint) of one object, streamed: memory stays flat."""
    try:
        response = client.get_object(Bucket=bucket, Key=key)
    except ClientError as exc:
        raise StorageError(f"cannot read s3://{bucket}/{key}: {error_code(exc)}") from exc
    h, size = hashlib.sha256(), 0
    with response["Body"] as body:
        for chunk in iter(lambda: body.read(_HASH_CHUNK), b""):
            h.update(chunk)
            size += len(chunk)
    return size, "sha256:" + h.hexdigest()
