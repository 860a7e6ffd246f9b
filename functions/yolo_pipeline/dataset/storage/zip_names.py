"""A zip entry's name as Info-ZIP's unzip reads it, and the name rules both sides share.

The launcher's ranged reader and the container's extractor read names here, so a name one
accepts the other accepts: no escape from the root (``..``, absolute, drive letters,
backslashes), no part over 255 bytes, no folder named like a label file, no file and folder
of one name, and Info-ZIP's Unicode Path field honoured (with its CRC check).
"""

from __future__ import annotations

import bisect
import re
import struct
import zlib
from collections.abc import Sequence

from yolo_pipeline.dataset.storage.base import ArchiveError

FLAG_UTF8 = 0x800  # general purpose bit 11: the name is UTF-8
UNIX_HOST = 3  # "version made by" host system whose external attributes hold a st_mode
_UNICODE_PATH = 0x7075  # Info-ZIP's Unicode Path extra field
MAX_NAME_PART_BYTES = 255  # NAME_MAX of Linux file systems (ext4, xfs): the container's disk
# A folder entry so named would stand where training expects a label or config file.
_FILE_LIKE_FOLDERS = (".txt", ".yaml", ".yml")
_DRIVE = re.compile(r"^[A-Za-z]:")


def unsafe_name(name: str) -> str:
    """Why ``name`` may not be extracted, or ``""``."""
    if "\\" in name:
        return "uses backslashes (a Windows path)"
    if name.startswith("/") or _DRIVE.match(name):
        return "is an absolute path"
    if any(ord(ch) < 32 for ch in name):
        return "holds control characters"
    parts = name.rstrip("/").split("/")
    if ".." in parts:
        return "escapes the archive root (..)"
    if any(p in {"", "."} for p in parts):
        return "is not a plain relative path"
    if any(len(p.encode("utf-8", "surrogatepass")) > MAX_NAME_PART_BYTES for p in parts):
        return f"has a name part over {MAX_NAME_PART_BYTES} bytes (no file system can create it)"
    if name.endswith("/") and parts[-1].lower().endswith(_FILE_LIKE_FOLDERS):
        return "is a folder named like a label or config file"
    return ""


def unicode_path(raw: bytes, extra: bytes) -> str | None:
    """The UTF-8 name of Info-ZIP's Unicode Path extra field (0x7075), which `zip -r` writes
    instead of the UTF-8 flag; ``None`` without one, or when its CRC does not match the
    stored name (a tool renamed the entry since: the spec says to ignore the field then)."""
    pos = 0
    while pos + 4 <= len(extra):
        tag, length = struct.unpack_from("<2H", extra, pos)
        body = extra[pos + 4 : pos + 4 + length]
        pos += 4 + length
        if tag != _UNICODE_PATH or len(body) < 5 or body[0] != 1:
            continue
        if struct.unpack_from("<L", body, 1)[0] != zlib.crc32(raw):
            return None
        try:
            return body[5:].decode("utf-8")
        except UnicodeDecodeError as exc:
            raise ArchiveError("an entry's Unicode Path field is not valid UTF-8") from exc
    return None


def entry_name(raw: bytes, extra: bytes, flags: int, made_by: int) -> str:
    """The name as Info-ZIP's unzip reads it: UTF-8 when flagged; else the Unicode Path
    field; else, from a Unix host (``zip -r`` in a UTF-8 locale writes neither), the bytes
    themselves when they are UTF-8; else the DOS code page of the format."""
    if flags & FLAG_UTF8:
        try:
            return raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise ArchiveError("an entry name is not valid UTF-8") from exc
    named = unicode_path(raw, extra)
    if named is not None:
        return named
    if made_by >> 8 == UNIX_HOST:
        try:
            return raw.decode("utf-8")
        except UnicodeDecodeError:
            pass  # a legacy single-byte name: the DOS reading below, as unzip shows it
    return raw.decode("cp437")


def check_clashes(names: Sequence[str]) -> None:
    """A file and a folder of one name (``a`` beside ``a/`` or ``a/b``) cannot both be
    unpacked: refused here, so the launcher and the container judge the archive alike.
    Sorted names put ``a/...`` right after ``a``'s other neighbours: one bisect per file."""
    ordered = sorted(names)
    for name in ordered:
        if name.endswith("/"):
            continue
        at = bisect.bisect_left(ordered, name + "/")
        if at < len(ordered) and ordered[at].startswith(name + "/"):
            raise ArchiveError(
                f"entry {name[:200]!r} is both a file and a folder ({ordered[at][:200]!r})",
                path=name[:200],
            )
