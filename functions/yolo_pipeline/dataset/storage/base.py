"""What every dataset storage offers, and the errors a listing or read raises.

The validator only needs three things: one recursive listing (cached), a bounded read of
one file, and many small reads (label files) with bounded concurrency. Every backend
gives paths relative to the dataset root in POSIX form, so the checks are the same code.
Nothing here writes or deletes.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Protocol, TypeVar

from yolo_pipeline.errors import PipelineError
from yolo_pipeline.text import quote

T = TypeVar("T")
DEFAULT_MAX_WORKERS = 32


class StorageError(PipelineError):
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


def split_s3_uri(uri: str) -> tuple[str, str]:
    """``s3://bucket/some/key`` -> ``('bucket', 'some/key')``."""
    if not uri.startswith("s3://"):
        raise ValueError(f"{quote(uri)} is not an s3:// URI")
    bucket, _, key = uri[len("s3://") :].partition("/")
    if not bucket:
        raise ValueError(f"{quote(uri)} has no bucket name")
    return bucket, key


class ArchiveError(StorageError):
    """The archive is refused (unsafe or corrupt): the user's problem, never retried.

    ``path`` is the entry's name inside the archive when one entry is at fault.
    """

    def __init__(self, message: str, path: str = "", hint: str = "") -> None:
        super().__init__(message)
        self.path = path
        self.hint = hint or "re-create the zip from the dataset folder (e.g. `zip -r`)"
