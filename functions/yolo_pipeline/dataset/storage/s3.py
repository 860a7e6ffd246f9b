"""The S3 backends: everything under an ``s3://bucket/prefix``, and one zip object read
in ranges. boto3 is imported here, so only the opener imports this module, and only when
an s3:// location is opened (the training image has no boto3).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Iterator
from typing import Any, TypeVar

from botocore.exceptions import BotoCoreError, ClientError

from yolo_pipeline.aws import clients as aws
from yolo_pipeline.aws.errors import error_code, error_summary
from yolo_pipeline.dataset.storage import s3_bulk
from yolo_pipeline.dataset.storage.base import (
    BoundedReads,
    FileInfo,
    FileTooLargeError,
    StorageError,
)

T = TypeVar("T")


class S3Storage(BoundedReads):
    """Everything under ``s3://bucket/prefix``; paths are keys minus the prefix."""

    def __init__(self, bucket: str, prefix: str, client: Any | None = None) -> None:
        prefix = prefix.lstrip("/")
        if prefix and not prefix.endswith("/"):
            prefix += "/"
        self.bucket = bucket
        self.prefix = prefix
        self.uri = f"s3://{bucket}/{prefix}"
        if client is None:
            client = aws.client("s3")
        self.client = client
        self._files: list[FileInfo] | None = None
        self._lock = threading.Lock()
        self._bulk: Any = None  # s3_bulk.ObstoreReader, made on first use

    def map_read(
        self,
        paths: Iterable[str],
        fn: Callable[[str, bytes], T],
        max_workers: int | None = None,
    ) -> Iterator[tuple[str, T]]:
        """Label reads through obstore (a quarter of botocore's CPU per GET), else boto3."""
        if not s3_bulk.enabled():
            return super().map_read(paths, fn, max_workers)
        if self._bulk is None:
            cut = len(self.prefix)
            self._bulk = s3_bulk.ObstoreReader(
                self.client, self.bucket, lambda key: self.read_bytes(key[cut:])
            )
        return s3_bulk.map_read_obstore(self._bulk, self.prefix, paths, fn)

    def list_files(self) -> list[FileInfo]:
        with self._lock:
            if self._files is None:
                files: list[FileInfo] = []
                try:
                    paginator = self.client.get_paginator("list_objects_v2")
                    for page in paginator.paginate(Bucket=self.bucket, Prefix=self.prefix):
                        for obj in page.get("Contents", []):
                            key: str = obj["Key"]
                            rel = key[len(self.prefix) :]
                            if not rel or rel.endswith("/"):  # "folder" marker objects
                                continue
                            etag = obj.get("ETag")
                            files.append(FileInfo(rel, int(obj.get("Size", 0)), etag))
                except ClientError as exc:
                    raise StorageError(f"cannot list {self.uri}: {error_summary(exc)}") from exc
                except BotoCoreError as exc:
                    raise StorageError(f"cannot list {self.uri}: {exc}") from exc
                files.sort(key=lambda f: f.path)
                self._files = files
            return self._files

    def read_bytes(self, path: str, max_bytes: int | None = None) -> bytes:
        key = self.prefix + path
        kwargs: dict[str, Any] = {"Bucket": self.bucket, "Key": key}
        if max_bytes is not None:
            kwargs["Range"] = f"bytes=0-{max_bytes}"  # one byte more tells us it is too big
        try:
            response = self.client.get_object(**kwargs)
            with response["Body"] as body:
                data: bytes = body.read()
        except ClientError as exc:
            if error_code(exc) == "InvalidRange":
                return b""  # ranged read of an empty object
            raise StorageError(
                f"cannot read s3://{self.bucket}/{key}: {error_summary(exc)}"
            ) from exc
        except BotoCoreError as exc:
            raise StorageError(f"cannot read s3://{self.bucket}/{key}: {exc}") from exc
        if max_bytes is not None and len(data) > max_bytes:
            raise FileTooLargeError(f"{path} is larger than {max_bytes:,} bytes")
        return data


class S3ZipObject:
    """``read_range`` over one S3 object: GetObject with a Range header, never a full GET.

    Every read names the ETag seen by HeadObject (``IfMatch``), so an archive replaced
    while it is read fails loudly instead of mixing two archives.
    """

    def __init__(self, bucket: str, key: str, client: Any | None = None) -> None:
        if client is None:
            client = aws.client("s3")
        self.client = client
        self.bucket, self.key = bucket, key
        self.uri = f"s3://{bucket}/{key}"
        self.etag = ""

    def _fail(self, exc: Exception) -> StorageError:
        reason = error_summary(exc) if hasattr(exc, "response") else str(exc)
        return StorageError(f"cannot read {self.uri}: {reason}")

    def size(self) -> int:
        try:
            head = self.client.head_object(Bucket=self.bucket, Key=self.key)
        except (ClientError, BotoCoreError) as exc:
            raise self._fail(exc) from exc
        self.etag = str(head.get("ETag", ""))
        return int(head["ContentLength"])

    def read_range(self, start: int, end: int) -> bytes:
        if end <= start:
            return b""
        kwargs: dict[str, Any] = {
            "Bucket": self.bucket,
            "Key": self.key,
            "Range": f"bytes={start}-{end - 1}",
        }
        if self.etag:
            kwargs["IfMatch"] = self.etag
        try:
            response = self.client.get_object(**kwargs)
            with response["Body"] as body:
                data: bytes = body.read()
        except (ClientError, BotoCoreError) as exc:
            raise self._fail(exc) from exc
        return data
