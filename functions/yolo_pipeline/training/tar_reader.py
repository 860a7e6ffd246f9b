"""Read and unpack a job's .tar.gz archives (model.tar.gz, output.tar.gz) by hand.

tarfile is not trusted with them: its ``data`` filter can be bypassed on the Python
versions this project allows (CVE-2025-4517), and it reads a PAX or GNU long-name header's
whole body before any limit of ours applies (a 0.4 MiB archive can ask for a gigabyte).
So the headers are parsed here, 512 bytes at a time from the gzip stream:

- a metadata header (PAX ``x``/``g``, GNU ``L``/``K``) larger than ``MAX_META_BYTES`` is
  refused before its body is read;
- only regular files and folders are members; links, devices and FIFOs are reported as
  ``other`` (``unpack`` refuses them, a reader skips them);
- ``unpack`` checks every name by hand (relative, no ``..``, no backslash or NUL, parts of
  at most 255 bytes, UTF-8), creates folders and new files only (``O_EXCL|O_NOFOLLOW``) in
  a new or empty folder, so nothing can be written through a link or outside the target.
"""

from __future__ import annotations

import gzip
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Literal

from yolo_pipeline.errors import PipelineError

BLOCK = 512
MAX_META_BYTES = 64 * 1024  # a PAX record set or a GNU long name: a few hundred bytes
MAX_NAME_PART_BYTES = 255
_CHUNK = 1024 * 1024
_FILE_TYPES = {b"0", b"\0", b"7"}
_DIR_TYPE = b"5"
_META_TYPES = {b"x", b"g", b"L", b"K"}

Kind = Literal["file", "dir", "other"]


class TarRefused(PipelineError):
    """The archive is not one we read: the message says why."""


@dataclass(frozen=True)
class TarMember:
    name: str  # as stored, "./" and trailing "/" removed
    kind: Kind
    size: int


def _number(field: bytes) -> int:
    if field[:1] and field[0] & 0x80:  # GNU base-256 for sizes over 8 GiB
        value = int.from_bytes(field[1:], "big")
        return -value if field[0] & 0x40 else value
    text = field.split(b"\0", 1)[0].strip(b" \0")
    try:
        return int(text, 8) if text else 0
    except ValueError as exc:
        raise TarRefused(f"a header number is not octal ({text[:20]!r})") from exc


def _checksum_ok(header: bytes) -> bool:
    stored = _number(header[148:156])
    unsigned = sum(header[:148]) + 8 * 0x20 + sum(header[156:])
    return stored == unsigned


def _pax(body: bytes) -> dict[str, str]:
    """PAX records ``"<len> <key>=<value>\\n"``; only path and size matter here."""
    records: dict[str, str] = {}
    at = 0
    while at < len(body) and body[at : at + 1] not in (b"\0", b""):
        length_text, _, _ = body[at : at + 20].partition(b" ")
        try:
            length = int(length_text)
        except ValueError as exc:
            raise TarRefused("a PAX header is malformed") from exc
        if length <= 0 or at + length > len(body):
            raise TarRefused("a PAX header is malformed")
        record = body[at : at + length].rstrip(b"\n")
        key, _, value = record.partition(b" ")[2].partition(b"=")
        records[key.decode("utf-8", "replace")] = value.decode("utf-8", "surrogateescape")
        at += length
    return records


class _Stream:
    def __init__(self, raw: BinaryIO) -> None:
        self.raw = raw
        self.pending = 0  # data bytes (padded) of the current member not yet consumed

    def exact(self, n: int) -> bytes:
        data = self.raw.read(n)
        if len(data) != n:
            raise TarRefused("the archive is truncated")
        return data

    def skip(self, n: int) -> None:
        while n > 0:
            n -= len(self.exact(min(n, _CHUNK)))


def _padded(size: int) -> int:
    return (size + BLOCK - 1) // BLOCK * BLOCK


def _decode_name(raw: bytes) -> str:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.decode("utf-8", "surrogateescape")  # unpack refuses it, a reader may skip


def _headers(stream: _Stream, max_meta: int) -> Iterator[TarMember]:
    """Members in archive order; the caller reads or skips each one's data."""
    long_name: str | None = None
    pax: dict[str, str] = {}
    while True:
        if stream.pending:
            stream.skip(stream.pending)
            stream.pending = 0
        header = stream.raw.read(BLOCK)
        if len(header) < BLOCK or header == b"\0" * BLOCK:
            return
        if not _checksum_ok(header):
            raise TarRefused("a header's checksum is wrong: not a tar archive, or damaged")
        kind, size = header[156:157], _number(header[124:136])
        if size < 0:
            raise TarRefused("a header declares a negative size")
        if kind in _META_TYPES:
            if size > max_meta:
                raise TarRefused(
                    f"a {'PAX' if kind in b'xg' else 'GNU long-name'} header of {size:,} bytes "
                    f"(the limit is {max_meta:,})"
                )
            body = stream.exact(_padded(size))[:size]
            if kind == b"x":
                pax = _pax(body)
            elif kind == b"L":
                long_name = _decode_name(body.split(b"\0", 1)[0])
            continue  # "g" (global) and "K" (a link's target) change nothing we read
        name = _decode_name(header[:100].split(b"\0", 1)[0])
        prefix = header[345:500].split(b"\0", 1)[0] if header[257:262] == b"ustar" else b""
        if prefix:
            name = _decode_name(prefix) + "/" + name
        name = pax.get("path", long_name if long_name is not None else name)
        if "size" in pax:
            try:
                size = int(pax["size"])
            except ValueError as exc:
                raise TarRefused("a PAX size is not a number") from exc
        pax, long_name = {}, None
        member_kind: Kind = (
            "file" if kind in _FILE_TYPES else "dir" if kind == _DIR_TYPE else "other"
        )
        stream.pending = _padded(size)  # whatever the kind: the next header is after it
        clean = name.removeprefix("./").rstrip("/") if name not in ("./", ".") else ""
        yield TarMember(clean, member_kind, size if member_kind == "file" else 0)


class TarReader:
    """One pass over a .tar.gz stream: ``members()`` and ``read(member)`` in between."""

    def __init__(self, fileobj: BinaryIO, max_meta: int = MAX_META_BYTES) -> None:
        self._stream = _Stream(gzip.GzipFile(fileobj=fileobj, mode="rb"))  # type: ignore[arg-type]
        self._max_meta = max_meta

    def members(self) -> Iterator[TarMember]:
        try:
            yield from _headers(self._stream, self._max_meta)
        except (OSError, EOFError) as exc:  # gzip's own errors: not a gzip stream, damaged
            raise TarRefused(f"not a readable .tar.gz ({exc})") from exc

    def chunks(self, member: TarMember) -> Iterator[bytes]:
        """The current member's data, piece by piece (call before the next ``members()``)."""
        stream, left = self._stream, member.size
        try:
            while left > 0:
                piece = stream.exact(min(left, _CHUNK))
                left -= len(piece)
                stream.pending -= len(piece)  # what the next header skips: the rest
                yield piece
        except (OSError, EOFError) as exc:
            raise TarRefused(f"not a readable .tar.gz ({exc})") from exc

    def read(self, member: TarMember, limit: int) -> bytes:
        if member.size > limit:
            raise TarRefused(f"{member.name} is over {limit:,} bytes")
        return b"".join(self.chunks(member))


def unsafe_name(name: str) -> str:
    """Why ``name`` may not be unpacked, or ``""``."""
    if not name:
        return "has an empty name"
    if "\0" in name or "\\" in name:
        return "has a NUL or a backslash in its name"
    if name.startswith("/") or (len(name) > 1 and name[1] == ":"):
        return "is an absolute path"
    parts = name.split("/")
    if any(p in ("", ".", "..") for p in parts):
        return "has an empty, '.' or '..' part"
    try:
        encoded = [p.encode("utf-8") for p in parts]
    except UnicodeEncodeError:
        return "has a name that is not UTF-8"
    if any(len(p) > MAX_NAME_PART_BYTES for p in encoded):
        return f"has a name part over {MAX_NAME_PART_BYTES} bytes"
    return ""


def unpack(archive: Path, target: Path, max_total_bytes: int = 1024**4) -> list[str]:
    """Unpack ``archive`` into ``target`` (new or empty): folders and regular files only.

    Returns the files written. ``TarRefused`` names the first member refused; what was
    written before it stays (the caller chose a new folder)."""
    target.mkdir(parents=True, exist_ok=True)
    if any(target.iterdir()):
        raise TarRefused(f"{target} is not empty")
    base = target.resolve()
    written: list[str] = []
    total = 0
    with archive.open("rb") as raw:
        reader = TarReader(raw)
        for member in reader.members():
            if member.kind == "dir" and not member.name:
                continue  # the archive's "./"
            if member.kind == "other":
                raise TarRefused(f"{member.name!r} is a link or a special file: refused")
            if why := unsafe_name(member.name):
                raise TarRefused(f"{member.name!r} {why}")
            path = base / member.name
            if member.kind == "dir":
                path.mkdir(parents=True, exist_ok=True)
                continue
            total += member.size
            if total > max_total_bytes:
                raise TarRefused(f"the archive unpacks to over {max_total_bytes:,} bytes")
            path.parent.mkdir(parents=True, exist_ok=True)
            try:
                fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o644)
            except FileExistsError as exc:
                raise TarRefused(f"{member.name!r} appears twice in the archive") from exc
            with os.fdopen(fd, "wb") as out:
                for piece in reader.chunks(member):
                    out.write(piece)
            written.append(member.name)
    return written
