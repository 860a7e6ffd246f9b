"""A dataset inside one zip archive, as a ``Storage`` for the validator. The archive is any
ranged reader: a local file here, an S3 object in ``storage.s3``.

The dataset root is where data.yaml sits: the archive root or its single top-level folder
(``zip_reader.find_dataset_root``). Listing reads only the central directory; label files
are read in coalesced ranges (``ZipArchive.spans``), so the images are never fetched.
A refused archive raises ``ArchiveError`` (a ``StorageError`` the launcher treats as the
user's problem, not S3's).
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Protocol, TypeVar

from yolo_pipeline.contract import DATA_YAML
from yolo_pipeline.dataset.storage.base import (
    BoundedReads,
    FileInfo,
    bounded_map,
)
from yolo_pipeline.dataset.storage.class_folders import classify_root
from yolo_pipeline.dataset.storage.zip_reader import (
    DEFAULT_LIMITS,
    Span,
    ZipArchive,
    ZipLimits,
    find_dataset_root,
)

T = TypeVar("T")
MACOS_FORK = "__MACOSX/"  # Finder's resource forks: not dataset content


def is_zip_location(location: str) -> bool:
    return location.lower().endswith(".zip")


class LocalZipFile:
    """``read_range`` over a local file (``os.pread``: thread-safe, no shared file offset)."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.uri = str(self.path)
        self._fd: int | None = None

    def size(self) -> int:
        return self.path.stat().st_size

    def read_range(self, start: int, end: int) -> bytes:
        if self._fd is None:
            self._fd = os.open(self.path, os.O_RDONLY)
        return os.pread(self._fd, end - start, start)


class ZipSource(Protocol):
    """What ``ZipStorage`` reads from: a size and ranged reads."""

    uri: str

    def size(self) -> int: ...

    def read_range(self, start: int, end: int) -> bytes: ...


class ZipStorage(BoundedReads):
    """The dataset in one archive; paths are entry names below the dataset root."""

    read_workers = 8  # each read is one large coalesced range

    def __init__(self, source: ZipSource, limits: ZipLimits = DEFAULT_LIMITS) -> None:
        self.source = source
        self.uri = source.uri
        self.limits = limits
        self.root = ""  # "" or "top/": the archive path of the dataset root
        self._archive: ZipArchive | None = None
        self._files: list[FileInfo] | None = None
        self._lock = threading.Lock()

    @property
    def archive(self) -> ZipArchive:
        with self._lock:
            if self._archive is None:
                self._archive = ZipArchive(self.source.read_range, self.source.size(), self.limits)
                names = [e.name for e in self._archive.files()]
                root = find_dataset_root(names, DATA_YAML)
                self.root = root if root is not None else classify_root(names) or ""
            return self._archive

    @property
    def archive_root(self) -> str:
        """The dataset root's path inside the archive: findings are named from there."""
        return self.root

    def list_files(self) -> list[FileInfo]:
        archive = self.archive
        if self._files is None:
            self._files = sorted(
                (
                    FileInfo(e.name[len(self.root) :], e.size)
                    for e in archive.files()
                    if e.name.startswith(self.root) and not e.name.startswith(MACOS_FORK)
                ),
                key=lambda f: f.path,
            )
        return self._files

    def read_bytes(self, path: str, max_bytes: int | None = None) -> bytes:
        return self.archive.read(self.root + path, max_bytes)

    def map_read(
        self,
        paths: Iterable[str],
        fn: Callable[[str, bytes], T],
        max_workers: int | None = None,
    ) -> Iterator[tuple[str, T]]:
        """``fn`` over each entry, fetched in coalesced spans (a few large reads)."""
        archive = self.archive
        spans = archive.spans([self.root + p for p in paths])
        cut = len(self.root)

        def one_span(span: Span) -> list[tuple[str, T]]:
            return [(name[cut:], fn(name[cut:], data)) for name, data in archive.read_span(span)]

        index = {str(i): span for i, span in enumerate(spans)}
        for _, results in bounded_map(
            index,
            lambda i: b"",  # the span is read inside ``one_span``
            lambda i, _: one_span(index[i]),
            max_workers or self.read_workers,
        ):
            yield from results
