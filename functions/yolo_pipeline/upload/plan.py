"""What an upload has to send: the local files, hashed, against what is already in S3.

One ListObjectsV2 call per 1,000 keys decides for the whole dataset; a size match with a
different ETag costs one HeadObject (the MD5 in the object's metadata). Objects under the
prefix that are not in the local folder are reported, never deleted: the launcher trains on
them too.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from boto3.s3.transfer import TransferConfig
from botocore.exceptions import BotoCoreError, ClientError

from yolo_pipeline.aws.errors import error_summary
from yolo_pipeline.contract import DATA_YAML
from yolo_pipeline.dataset.storage.local import walk_local
from yolo_pipeline.text import quote
from yolo_pipeline.upload.errors import UploadFailed
from yolo_pipeline.upload.etag import (
    MD5_METADATA_KEY,
    LocalFile,
    RemoteObject,
    hash_file,
    is_unchanged,
)


@dataclass
class UploadPlan:
    bucket: str
    prefix: str
    data_yaml: LocalFile
    to_upload: list[LocalFile] = field(default_factory=list)
    unchanged: list[LocalFile] = field(default_factory=list)
    data_yaml_unchanged: bool = False
    extra_remote: list[str] = field(default_factory=list)  # under the prefix, not local

    @property
    def upload_bytes(self) -> int:
        return sum(f.size for f in self.to_upload)


def _skipped_name(relative: Path) -> bool:
    # Hidden files (.DS_Store, .git) and Ultralytics' labels.cache are not dataset content.
    return any(part.startswith(".") for part in relative.parts) or relative.suffix == ".cache"


def collect_files(root: Path, prefix: str) -> list[LocalFile]:
    """Every dataset file under ``root`` with its destination key, sorted, sizes only.

    The same walk as ``validate`` (storage.walk_local): only regular files inside the
    folder. A symlink that resolves outside it, a FIFO or a device is never uploaded, not
    even with --force (validation reported it).
    """
    root = root.resolve()
    found, _refused = walk_local(root)
    files, odd = [], []
    for path, size in sorted(found):
        relative = path.relative_to(root)
        if _skipped_name(relative):
            continue
        if not _utf8(relative.as_posix()):
            odd.append(quote(relative.as_posix(), 120))
            continue
        files.append(LocalFile(path, prefix + relative.as_posix(), size))
    if odd:
        shown = ", ".join(odd[:5]) + (f" and {len(odd) - 5} more" if len(odd) > 5 else "")
        raise UploadFailed(
            f"{len(odd)} file name(s) are not UTF-8, which S3 keys must be: {shown}. "
            "Rename them (e.g. with `convmv -f latin1 -t utf8 -r --notest FOLDER`) and run "
            "this again; nothing was uploaded."
        )
    return files


def _utf8(name: str) -> bool:
    # A name that is not UTF-8 on disk arrives with surrogate escapes: it has no S3 key.
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def list_remote(s3: Any, bucket: str, prefix: str) -> dict[str, RemoteObject]:
    remote: dict[str, RemoteObject] = {}
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        for obj in page.get("Contents", []):
            remote[obj["Key"]] = RemoteObject(int(obj["Size"]), str(obj["ETag"]).strip('"'))
    return remote


def remote_md5(s3: Any, bucket: str, key: str) -> str | None:
    metadata = s3.head_object(Bucket=bucket, Key=key).get("Metadata", {})
    value = metadata.get(MD5_METADATA_KEY)
    return str(value) if value else None


def cannot_read(bucket: str, key: str, exc: ClientError | BotoCoreError) -> UploadFailed:
    return UploadFailed(
        f"cannot read s3://{bucket}/{key}: {error_summary(exc)}\n"
        "Check the bucket name, your AWS credentials and region."
    )


def plan_upload(
    s3: Any, root: Path, bucket: str, prefix: str, config: TransferConfig
) -> UploadPlan:
    """Hash the local files and compare them with what is already under the prefix."""
    try:
        return _plan(s3, root, bucket, prefix, config)
    except (ClientError, BotoCoreError) as exc:
        raise cannot_read(bucket, prefix, exc) from exc
    except OSError as exc:  # an unreadable file: one line, no traceback
        where = quote(str(exc.filename or root), 200)
        raise UploadFailed(f"cannot read {where}: {exc.strerror or exc}") from exc


def _plan(s3: Any, root: Path, bucket: str, prefix: str, config: TransferConfig) -> UploadPlan:
    files = collect_files(root, prefix)
    with ThreadPoolExecutor(max_workers=4) as pool:  # hashlib releases the GIL
        hashed = list(pool.map(lambda f: hash_file(f, config), files))
    remote = list_remote(s3, bucket, prefix)
    data_key = prefix + DATA_YAML
    data_yaml = next((f for f in hashed if f.key == data_key), None)
    if data_yaml is None:  # e.g. a symlink out of the folder: refused by collect_files
        raise UploadFailed(f"{root / DATA_YAML} is not a regular file inside {root}")
    plan = UploadPlan(bucket, prefix, data_yaml)
    for local in hashed:
        current = remote.get(local.key)
        md5 = None
        if current and current.size == local.size and current.etag != local.etag:
            md5 = remote_md5(s3, bucket, local.key)
        unchanged = is_unchanged(local, current, md5)
        if local.key == data_key:
            plan.data_yaml_unchanged = unchanged
        else:
            (plan.unchanged if unchanged else plan.to_upload).append(local)
    local_keys = {f.key for f in hashed}
    plan.extra_remote = sorted(k for k in remote if k not in local_keys)
    return plan
