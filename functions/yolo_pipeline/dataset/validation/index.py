"""The dataset's listing, with the lookups the checks need."""

from __future__ import annotations

import bisect
import functools
import posixpath

from yolo_pipeline.dataset.labels import is_image
from yolo_pipeline.dataset.storage.base import FileInfo


class ListingIndex:
    """The listing, with the lookups the checks need, each O(1) or O(log n + answer):
    split resolution stays linear in entries + files however many entries are missing."""

    def __init__(self, files: list[FileInfo]) -> None:
        self.files = sorted(files, key=lambda f: f.path)
        self.paths = [f.path for f in self.files]
        self.by_path = {f.path: f for f in self.files}
        self.lower = {p.lower(): p for p in self.paths}
        self.folders: set[str] = set()
        for path in self.paths:
            parent = posixpath.dirname(path)
            while parent and parent not in self.folders:
                self.folders.add(parent)
                parent = posixpath.dirname(parent)
        self.lower_folders = {f.lower() for f in self.folders}
        self.backslashes = any("\\" in p for p in self.paths[:1000])
        self._top_level: list[str] | None = None

    @functools.cached_property
    def images(self) -> dict[str, int]:
        """Each image path (Ultralytics' suffix rule) -> where its last hidden part starts
        (``/.``; -1 when none): a split folder's glob is then a lookup per file, however
        many entries name the same files."""
        return {p: p.rfind("/.") for p in self.paths if is_image(p)}

    def under(self, folder: str) -> list[str]:
        if folder in {"", "."}:
            return list(self.paths)
        prefix = folder.rstrip("/") + "/"
        start = bisect.bisect_left(self.paths, prefix)
        end = bisect.bisect_left(self.paths, prefix[:-1] + chr(ord("/") + 1), lo=start)
        return self.paths[start:end]

    def has_folder(self, folder: str) -> bool:
        return folder.rstrip("/") in self.folders

    def top_level(self) -> list[str]:
        if self._top_level is None:
            self._top_level = sorted(
                {p.split("/", 1)[0] + ("/" if "/" in p else "") for p in self.paths}
            )
        return self._top_level
