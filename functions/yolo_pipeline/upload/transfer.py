"""Concurrent uploads through s3transfer, with two progress bars (files and bytes)."""

from __future__ import annotations

import threading
from collections.abc import Iterable
from typing import Any

from boto3.s3.transfer import TransferConfig, create_transfer_manager
from botocore.exceptions import BotoCoreError, ClientError
from s3transfer.subscribers import BaseSubscriber

from yolo_pipeline.aws.errors import error_summary
from yolo_pipeline.upload.etag import MD5_METADATA_KEY, LocalFile


class _Progress(BaseSubscriber):
    """Feeds the two progress bars; s3transfer calls it from its worker threads."""

    def __init__(self, files_bar: Any, bytes_bar: Any, lock: threading.Lock) -> None:
        self._files, self._bytes, self._lock = files_bar, bytes_bar, lock

    def on_progress(self, future: Any, bytes_transferred: int, **kwargs: Any) -> None:
        with self._lock:  # negative on a retried part: the bar goes back, as it should
            self._bytes.update(bytes_transferred)

    def on_done(self, future: Any, **kwargs: Any) -> None:
        with self._lock:
            self._files.update(1)


def transfer(
    s3: Any,
    bucket: str,
    files: Iterable[LocalFile],
    config: TransferConfig,
    *,
    progress: bool = True,
    label: str = "files",
    metadata: dict[str, str] | None = None,
) -> tuple[list[str], dict[str, str]]:
    """Upload ``files`` concurrently (bounded by ``config.max_concurrency``); wait for all.

    Returns (uploaded keys, {failed key: reason}). One failure does not stop the others,
    so a rerun has less left to do. ``metadata`` is added to every object's user metadata.
    A failure of the transfer manager itself is reported under the file's key when there is
    one file, else under ``*``.
    """
    files = list(files)
    try:
        return _transfer(s3, bucket, files, config, progress, label, metadata or {})
    except (ClientError, BotoCoreError) as exc:
        return [], {files[0].key if len(files) == 1 else "*": error_summary(exc)}


def _transfer(
    s3: Any,
    bucket: str,
    files: list[LocalFile],
    config: TransferConfig,
    progress: bool,
    label: str,
    metadata: dict[str, str],
) -> tuple[list[str], dict[str, str]]:
    from tqdm import tqdm  # type: ignore[import-untyped]  # CLI only; Lambdas never import it

    lock = threading.Lock()
    uploaded: list[str] = []
    failed: dict[str, str] = {}
    total = sum(f.size for f in files)
    with (
        tqdm(total=len(files), desc=label, unit="file", disable=not progress) as files_bar,
        tqdm(total=total, desc="bytes", unit="B", unit_scale=True, disable=not progress) as b_bar,
        create_transfer_manager(s3, config) as manager,
    ):
        subscriber = _Progress(files_bar, b_bar, lock)
        futures = [
            (
                local,
                manager.upload(
                    str(local.path),
                    bucket,
                    local.key,
                    extra_args={"Metadata": {MD5_METADATA_KEY: local.md5, **metadata}},
                    subscribers=[subscriber],
                ),
            )
            for local in files
        ]
        for local, future in futures:
            try:
                future.result()
                uploaded.append(local.key)
            except (ClientError, BotoCoreError, OSError) as exc:
                failed[local.key] = error_summary(exc)
    return uploaded, failed
