"""Open any dataset location: a folder, its data.yaml, a ``.zip``, or an s3:// URI.

The one module that knows every backend. The S3 backends are imported only when an s3://
location is opened: they need boto3, which the training image does not have.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from yolo_pipeline.dataset.storage.base import Storage, split_s3_uri
from yolo_pipeline.dataset.storage.local import LocalStorage
from yolo_pipeline.dataset.storage.zip_storage import LocalZipFile, ZipStorage


def open_location(location: str, client: Any | None = None) -> tuple[Storage, str]:
    """Storage and data.yaml name for a folder, its data.yaml, or an s3:// prefix/URI.

    Raises ``FileNotFoundError`` for a local path that does not exist and ``ValueError``
    for a malformed S3 URI (the CLI turns both into a usage error). A ``.zip`` (local or
    S3) opens as a ``ZipStorage`` whose root is where its data.yaml sits.
    """
    is_file = not location.startswith("s3://") and Path(location).expanduser().is_file()
    if location.lower().endswith(".zip") and (is_file or location.startswith("s3://")):
        return open_zip(location, client=client), "data.yaml"
    if location.startswith("s3://"):
        # boto3 only for S3: absent in the training image.
        from yolo_pipeline.dataset.storage.s3 import S3Storage

        bucket, key = split_s3_uri(location)
        name = "data.yaml"
        if key.lower().endswith((".yaml", ".yml")):
            key, _, name = key.rpartition("/")
        return S3Storage(bucket, key, client=client), name
    path = Path(location).expanduser()
    if path.is_dir():
        return LocalStorage(path), "data.yaml"
    if path.is_file():
        return LocalStorage(path.parent), path.name
    if path.exists():  # a FIFO or device: never opened
        raise ValueError(f"{location} is not a regular file or folder")
    raise FileNotFoundError(f"{location} does not exist")


def open_zip(location: str, client: Any | None = None) -> ZipStorage:
    """``ZipStorage`` for a local ``.zip`` path or an ``s3://bucket/key.zip`` URI."""
    if location.startswith("s3://"):
        # boto3 only for S3: absent in the training image.
        from yolo_pipeline.dataset.storage.s3 import S3ZipObject

        bucket, key = split_s3_uri(location)
        return ZipStorage(S3ZipObject(bucket, key, client=client))
    path = Path(location).expanduser()
    if not path.is_file():
        raise FileNotFoundError(f"{location} does not exist")
    return ZipStorage(LocalZipFile(path))
