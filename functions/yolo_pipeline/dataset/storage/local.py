"""A dataset folder on disk: only regular files inside it are listed or read."""

from __future__ import annotations

import os
import stat
import threading
from pathlib import Path

from yolo_pipeline.dataset.storage.base import (
    BoundedReads,
    FileInfo,
    FileTooLargeError,
    StorageError,
)


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
