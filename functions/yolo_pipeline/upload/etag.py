"""The ETag S3 will report for a local file, so an unchanged file is never sent twice.

The checksum is the MD5 for a single PUT, and for a multipart upload the MD5 of the parts'
MD5s plus ``-<parts>``, computed with the same part size the transfer manager uses. With
SSE-KMS the ETag is not an MD5, so every upload also stores the file's MD5 in the object
metadata (``x-amz-meta-md5``) and a size match with a different ETag is settled by that.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

from boto3.s3.transfer import TransferConfig
from s3transfer.utils import ChunksizeAdjuster

MD5_METADATA_KEY = "md5"  # stored as x-amz-meta-md5
DEFAULT_CONCURRENCY = 8
_HASH_BLOCK = 1024 * 1024


def transfer_config(concurrency: int = DEFAULT_CONCURRENCY) -> TransferConfig:
    # "classic" pins the pure-Python transfer manager: the CRT one ignores botocore event
    # hooks and computes parts differently, which would break the ETag comparison.
    return TransferConfig(
        max_concurrency=concurrency,
        multipart_threshold=8 * 1024 * 1024,
        multipart_chunksize=8 * 1024 * 1024,
        preferred_transfer_client="classic",
    )


@dataclass(frozen=True)
class LocalFile:
    path: Path
    key: str
    size: int
    md5: str = ""  # hex digest of the whole file
    etag: str = ""  # the ETag S3 will report for it under our transfer config


@dataclass(frozen=True)
class RemoteObject:
    size: int
    etag: str  # without the surrounding quotes


def expected_etag(md5_parts: list[bytes], whole_md5: str) -> str:
    """The ETag S3 reports: the MD5 for one PUT, md5(part md5s)-N for a multipart upload."""
    if not md5_parts:
        return whole_md5
    return f"{hashlib.md5(b''.join(md5_parts), usedforsecurity=False).hexdigest()}-{len(md5_parts)}"


def hash_file(local: LocalFile, config: TransferConfig) -> LocalFile:
    """Fill in ``md5`` and ``etag`` with one read of the file."""
    multipart = local.size >= config.multipart_threshold
    part_size = ChunksizeAdjuster().adjust_chunksize(config.multipart_chunksize, local.size)
    whole = hashlib.md5(usedforsecurity=False)
    parts: list[bytes] = []
    part = hashlib.md5(usedforsecurity=False)
    in_part = 0
    with local.path.open("rb") as handle:
        while block := handle.read(min(_HASH_BLOCK, part_size - in_part)):
            whole.update(block)
            part.update(block)
            in_part += len(block)
            if in_part == part_size:
                parts.append(part.digest())
                part, in_part = hashlib.md5(usedforsecurity=False), 0
    if in_part:
        parts.append(part.digest())
    etag = expected_etag(parts if multipart else [], whole.hexdigest())
    return LocalFile(local.path, local.key, local.size, whole.hexdigest(), etag)


def is_unchanged(local: LocalFile, remote: RemoteObject | None, remote_md5: str | None) -> bool:
    """Same size and (same ETag, or same MD5 in metadata when the ETag is not an MD5)."""
    if remote is None or remote.size != local.size:
        return False
    return remote.etag == local.etag or (remote_md5 is not None and remote_md5 == local.md5)
