"""Read-only access to a dataset in a local folder or under an S3 prefix.

The validator only needs three things: one recursive listing (cached), a bounded read of
one file, and many small reads (label files) with bounded concurrency. Both backends
give paths relative to the dataset root in POSIX form, so the checks are the same code.
Nothing here writes or deletes.
"""

from __future__ import annotations

import os
import stat
import threading
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol, TypeVar

from yolo_pipeline.aws.errors import error_code, error_summary
from yolo_pipeline.text import quote

T = TypeVar("T")
DEFAULT_MAX_WORKERS = 32


class StorageError(Exception):
    """A listing or read failed; the message says what and where, for a user."""


class FileTooLargeError(StorageError):
    """A read with ``max_bytes`` found a larger file."""


@dataclass(frozen=True)
class FileInfo:
    path: str  # relative to the dataset root, POSIX separators
    size: int
    etag: str | None = None


class Storage(Protocol):
    uri: str

    def list_files(self) -> list[FileInfo]: ...

    def read_bytes(self, path: str, max_bytes: int | None = None) -> bytes: ...

    def map_read(
        self,
        paths: Iterable[str],
        fn: Callable[[str, bytes], T],
        max_workers: int | None = None,
    ) -> Iterator[tuple[str, T]]: ...


def bounded_map(
    paths: Iterable[str],
    read: Callable[[str], bytes],
    fn: Callable[[str, bytes], T],
    max_workers: int,
) -> Iterator[tuple[str, T]]:
    """Yield ``(path, fn(path, read(path)))`` in completion order, streamed.

    ``fn`` runs in the worker right after the read, so a body lives only as long as one
    call; at most ``2 * max_workers`` reads are in flight, so memory stays flat however
    many paths there are. The first read error is raised (as ``StorageError``) by the
    iterator after in-flight work is cancelled.
    """
    workers = max(1, max_workers)

    def task(path: str) -> T:
        return fn(path, read(path))

    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="storage-read") as pool:
        pending: deque[tuple[str, Future[T]]] = deque()
        it = iter(paths)
        exhausted = False
        try:
            while True:
                while not exhausted and len(pending) < 2 * workers:
                    try:
                        path = next(it)
                    except StopIteration:
                        exhausted = True
                        break
                    pending.append((path, pool.submit(task, path)))
                if not pending:
                    return
                # Oldest first keeps the window moving; completion order hardly differs
                # when requests have similar latency.
                path, future = pending.popleft()
                yield path, future.result()
        finally:
            for _, future in pending:
                future.cancel()


class BoundedReads:
    """``map_read`` for any storage with ``read_bytes``: one implementation, its own default.

    Subclasses set ``read_workers``: S3 hides request latency with many threads, local disks
    gain little beyond a few.
    """

    read_workers = DEFAULT_MAX_WORKERS

    def read_bytes(self, path: str, max_bytes: int | None = None) -> bytes:
        raise NotImplementedError

    def map_read(
        self,
        paths: Iterable[str],
        fn: Callable[[str, bytes], T],
        max_workers: int | None = None,
    ) -> Iterator[tuple[str, T]]:
        return bounded_map(paths, self.read_bytes, fn, max_workers or self.read_workers)


def _clean_rel(path: str) -> str:
    return path.replace(os.sep, "/").lstrip("/")


_KINDS = {
    stat.S_IFIFO: "a FIFO (named pipe)",
    stat.S_IFCHR: "a character device",
    stat.S_IFBLK: "a block device",
    stat.S_IFSOCK: "a socket",
}


def inspect_local(root: Path, full: Path) -> tuple[int | None, str | None]:
    """``(size, None)`` for a regular file inside ``root`` (symlinks resolved), else
    ``(None, why)``; ``(None, None)`` for a dangling symlink (not a file at all).

    Only ``lstat``/``stat`` are used: a FIFO or device is never opened, and a symlink
    whose target lies outside ``root`` is refused, so its target is never read.
    """
    try:
        link = full.lstat()
        if stat.S_ISLNK(link.st_mode):
            target = full.resolve()
            if target != root and root not in target.parents:
                return None, f"is a symbolic link to {target}, outside the dataset folder"
        st = full.stat()
    except FileNotFoundError:
        return None, None  # a dangling symlink, or deleted while we looked
    except (OSError, RuntimeError) as exc:  # RuntimeError: a symlink loop (Python 3.11)
        return None, f"cannot be read: {getattr(exc, 'strerror', None) or exc}"
    if not stat.S_ISREG(st.st_mode):
        kind = _KINDS.get(stat.S_IFMT(st.st_mode), "not a regular file")
        return None, f"is {kind}, not a regular file"
    return st.st_size, None


def walk_local(root: Path) -> tuple[list[tuple[Path, int]], list[tuple[str, str]]]:
    """Regular files under ``root`` (full path, size), and what was refused and why.

    Symlinked folders are not followed (as ``os.walk`` does); one that points outside the
    folder is reported, since the user may expect its files to be part of the dataset.
    """
    files: list[tuple[Path, int]] = []
    refused: list[tuple[str, str]] = []

    def unreadable(exc: OSError) -> None:
        where = Path(exc.filename).relative_to(root).as_posix() if exc.filename else "."
        refused.append((where or ".", f"folder cannot be read: {exc.strerror or exc}"))

    for dirpath, dirs, names in os.walk(root, onerror=unreadable):
        base = Path(dirpath)
        for name in dirs:
            full = base / name
            if full.is_symlink():
                try:
                    target = full.resolve()
                except (OSError, RuntimeError):  # a symlink loop: nothing to list
                    continue
                if target != root and root not in target.parents:
                    rel = full.relative_to(root).as_posix()
                    refused.append((rel, f"is a symbolic link to {target}, outside the folder"))
        for name in names:
            full = base / name
            size, why = inspect_local(root, full)
            if why is not None:
                refused.append((full.relative_to(root).as_posix(), why))
            elif size is not None:
                files.append((full, size))
    return files, refused


class LocalStorage(BoundedReads):
    """A dataset folder on disk. Only regular files inside it are listed or read."""

    read_workers = 8

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root).resolve()
        self.uri = str(self.root)
        self._files: list[FileInfo] | None = None
        self.refused: list[tuple[str, str]] = []  # (path, why): symlinks out, FIFOs, ...
        self._lock = threading.Lock()

    def list_files(self) -> list[FileInfo]:
        with self._lock:
            if self._files is None:
                if not self.root.is_dir():
                    raise StorageError(f"{self.root} is not a folder")
                found, self.refused = walk_local(self.root)
                files = [
                    FileInfo(full.relative_to(self.root).as_posix(), size) for full, size in found
                ]
                files.sort(key=lambda f: f.path)
                self._files = files
            return self._files

    def _full(self, path: str) -> Path:
        full = (self.root / _clean_rel(path)).resolve()
        if full != self.root and self.root not in full.parents:
            raise StorageError(f"{path} is outside {self.root}")
        return full

    def read_bytes(self, path: str, max_bytes: int | None = None) -> bytes:
        full = self._full(path)
        _, why = inspect_local(self.root, full)
        if why is not None:
            raise StorageError(f"{path} {why}")
        try:
            # O_NONBLOCK: should a FIFO appear after the check, opening it cannot hang.
            fd = os.open(full, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
            with os.fdopen(fd, "rb") as fh:
                data = fh.read() if max_bytes is None else fh.read(max_bytes + 1)
        except OSError as exc:
            raise StorageError(f"cannot read {path}: {exc.strerror or exc}") from exc
        if max_bytes is not None and len(data) > max_bytes:
            raise FileTooLargeError(f"{path} is larger than {max_bytes:,} bytes")
        return data


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
            from yolo_pipeline.aws import clients as aws

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
        from yolo_pipeline.dataset import s3_bulk

        if not s3_bulk.enabled():
            return super().map_read(paths, fn, max_workers)
        if self._bulk is None:
            cut = len(self.prefix)
            self._bulk = s3_bulk.ObstoreReader(
                self.client, self.bucket, lambda key: self.read_bytes(key[cut:])
            )
        return s3_bulk.map_read_obstore(self._bulk, self.prefix, paths, fn)

    def list_files(self) -> list[FileInfo]:
        from botocore.exceptions import BotoCoreError, ClientError

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
        from botocore.exceptions import BotoCoreError, ClientError

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


def split_s3_uri(uri: str) -> tuple[str, str]:
    """``s3://bucket/some/key`` -> ``('bucket', 'some/key')``."""
    if not uri.startswith("s3://"):
        raise ValueError(f"{quote(uri)} is not an s3:// URI")
    bucket, _, key = uri[len("s3://") :].partition("/")
    if not bucket:
        raise ValueError(f"{quote(uri)} has no bucket name")
    return bucket, key


def open_location(location: str, client: Any | None = None) -> tuple[Storage, str]:
    """Storage and data.yaml name for a folder, its data.yaml, or an s3:// prefix/URI.

    Raises ``FileNotFoundError`` for a local path that does not exist and ``ValueError``
    for a malformed S3 URI (the CLI turns both into a usage error). A ``.zip`` (local or
    S3) opens as a ``ZipStorage`` whose root is where its data.yaml sits.
    """
    is_file = not location.startswith("s3://") and Path(location).expanduser().is_file()
    if location.lower().endswith(".zip") and (is_file or location.startswith("s3://")):
        from yolo_pipeline.dataset.zip_storage import open_zip

        return open_zip(location, client=client), "data.yaml"
    if location.startswith("s3://"):
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
