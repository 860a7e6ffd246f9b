"""Read a zip archive through ranged reads: the central directory, then only chosen entries.

One callable ``read_range(start, end) -> bytes`` (end exclusive) and the archive's size are
all it needs, so the same code reads a local file and an S3 object (GetObject with Range).
Reading an archive costs: the tail (end of central directory, ZIP64 records), the central
directory, then the wanted entries, neighbours coalesced into a few large ranges; nothing
else is fetched, so the images of a dataset zip are never read.

Hostile archives are refused (``ArchiveError``) before anything is inflated: names that
escape the root (``..``, absolute, drive letters, backslashes), name parts over 255 bytes,
a file and a folder of one name, folders named like label files, symlinks and other special
files, encrypted entries, unsupported compression, duplicate names, overlapping entries,
too many entries, and declared sizes beyond the limits per entry, in total and in
compression ratio. Inflating is bounded too (``zlib.decompressobj`` with ``max_length``):
an entry that inflates past its declared size stops there, whatever it would have become.
The launcher (``zip_storage``) and the container (``container.zip_extract``) both read an
archive's names and its dataset root here, so they accept and refuse the same archives.
"""

from __future__ import annotations

import stat
import struct
import zlib
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import NamedTuple

from yolo_pipeline.dataset.storage.base import ArchiveError, FileTooLargeError, StorageError
from yolo_pipeline.dataset.storage.class_folders import classify_root
from yolo_pipeline.dataset.storage.zip_names import (
    UNIX_HOST,
    check_clashes,
    entry_name,
    unsafe_name,
)

ReadRange = Callable[[int, int], bytes]

_EOCD = struct.Struct("<4s4H2LH")  # end of central directory, 22 bytes + comment
_EOCD_SIG = b"PK\x05\x06"
_Z64_LOCATOR = struct.Struct("<4sLQL")  # 20 bytes, right before the EOCD
_Z64_LOCATOR_SIG = b"PK\x06\x07"
_Z64_EOCD = struct.Struct("<4sQ2H2L4Q")  # 56 bytes
_Z64_EOCD_SIG = b"PK\x06\x06"
_CENTRAL = struct.Struct("<4s6H3L5H2L")  # 46 bytes + name + extra + comment
_CENTRAL_SIG = b"PK\x01\x02"
_LOCAL = struct.Struct("<4s5H3L2H")  # 30 bytes + name + extra
_LOCAL_SIG = b"PK\x03\x04"
_MAX_COMMENT = 0xFFFF
_FIRST_TAIL = 4096  # almost every archive has no comment: a small first read suffices
_STORED, _DEFLATED = 0, 8
_FLAG_ENCRYPTED, _FLAG_STRONG_ENCRYPTION = 0x1, 0x40
_INFLATE_STEP = 1024 * 1024  # output per decompress() call: the memory bound of inflating
_MACOS_FORK = "__MACOSX/"  # Finder's resource forks beside the real top folder
MIB = 1024 * 1024
GIB = 1024 * MIB


@dataclass(frozen=True)
class ZipLimits:
    """What an archive may declare; anything beyond is refused before a byte is inflated."""

    max_entries: int = 1_000_000  # COCO is ~240k (images + labels)
    max_central_directory_bytes: int = 256 * MIB
    max_entry_bytes: int = 4 * GIB  # one image or label, uncompressed
    max_total_bytes: int = 1024 * GIB  # everything, uncompressed
    max_ratio: int = 200  # uncompressed / compressed, for entries over ratio_floor
    ratio_floor: int = 1 * MIB


DEFAULT_LIMITS = ZipLimits()


@dataclass(frozen=True)
class ZipEntry:
    name: str  # as stored, POSIX, checked to stay below the root
    offset: int  # of the local header
    compressed_size: int
    size: int  # declared uncompressed size
    method: int
    crc: int
    end: int  # where the next entry (or the central directory) starts: the span to fetch

    @property
    def is_dir(self) -> bool:
        return self.name.endswith("/")


@dataclass(frozen=True)
class CentralDirectory:
    entries: list[ZipEntry]  # in central-directory order, directories included
    offset: int
    size: int


# --------------------------------------------------------------------------- parsing


def _zip64_extra(extra: bytes, fields: list[int]) -> list[int]:
    """``fields`` (usize, csize, offset) with each one marked 0xFFFFFFFF taken, in that
    order, from the ZIP64 extra field (tag 1)."""
    pos = 0
    while pos + 4 <= len(extra):
        tag, length = struct.unpack_from("<2H", extra, pos)
        body = extra[pos + 4 : pos + 4 + length]
        pos += 4 + length
        if tag != 1:
            continue
        values = [v for (v,) in struct.iter_unpack("<Q", body[: len(body) // 8 * 8])]
        out = []
        for value in fields:
            if value == 0xFFFFFFFF:
                if not values:
                    raise ArchiveError("a ZIP64 extra field is truncated")
                value = values.pop(0)
            out.append(value)
        return out
    return fields


def _entry_problem(
    name: str, made_by: int, flags: int, method: int, attrs: int, usize: int, csize: int
) -> str:
    if flags & (_FLAG_ENCRYPTED | _FLAG_STRONG_ENCRYPTION) or method == 99:
        return "is encrypted"
    kind = stat.S_IFMT(attrs >> 16)  # 0 when a tool wrote permissions only (zipfile does)
    if made_by >> 8 == UNIX_HOST and kind:
        if kind == stat.S_IFLNK:
            return "is a symbolic link"
        if kind not in {stat.S_IFREG, stat.S_IFDIR}:
            return "is a special file (device, FIFO or socket)"
    if method not in {_STORED, _DEFLATED} and not name.endswith("/"):
        return f"uses compression method {method}; only stored and deflate are read"
    return ""


class _Row(NamedTuple):
    name: str
    offset: int
    csize: int
    usize: int
    method: int
    crc: int
    name_bytes: int


def _parse_central(data: bytes, count: int, limits: ZipLimits) -> list[_Row]:
    """One row per entry, every rule checked."""
    rows: list[_Row] = []
    pos = 0
    seen: set[str] = set()
    total = 0
    while pos < len(data):
        if len(rows) >= limits.max_entries:
            raise ArchiveError(f"holds more than {limits.max_entries:,} entries")
        if data[pos : pos + 4] != _CENTRAL_SIG or pos + _CENTRAL.size > len(data):
            raise ArchiveError("its central directory is corrupt")
        (_, made_by, _, flags, method, _, _, crc, csize, usize, n_len, e_len, c_len, disk, _,
         attrs, offset) = _CENTRAL.unpack_from(data, pos)  # fmt: skip
        raw = data[pos + 46 : pos + 46 + n_len]
        extra = data[pos + 46 + n_len : pos + 46 + n_len + e_len]
        pos += 46 + n_len + e_len + c_len
        if pos > len(data):
            raise ArchiveError("its central directory is truncated")
        name = entry_name(raw, extra, flags, made_by)
        shown = name[:200]
        usize, csize, offset = _zip64_extra(extra, [usize, csize, offset])
        why = unsafe_name(name) or _entry_problem(name, made_by, flags, method, attrs, usize, csize)
        if not why and disk not in {0, 0xFFFF}:
            why = "lives on another disk of a split archive"
        if not why and name in seen:
            why = "appears twice"
        if not why and usize > limits.max_entry_bytes:
            why = f"declares {usize:,} bytes; the limit per file is {limits.max_entry_bytes:,}"
        if not why and usize > limits.ratio_floor and usize > csize * limits.max_ratio:
            why = f"inflates {usize // max(csize, 1):,}-fold (a zip bomb?)"
        if why:
            raise ArchiveError(f"entry {shown!r} {why}", path=shown)
        seen.add(name)
        total += usize
        if total > limits.max_total_bytes:
            raise ArchiveError(
                f"declares more than {limits.max_total_bytes:,} bytes uncompressed in total"
            )
        rows.append(_Row(name, offset, csize, usize, method, crc, n_len))
    if len(rows) != count and count not in {0xFFFF, 0xFFFFFFFF}:
        raise ArchiveError(f"says it holds {count:,} entries but lists {len(rows):,}")
    check_clashes([r.name for r in rows])
    return rows


def _with_spans(rows: list[_Row], cd_offset: int) -> list[ZipEntry]:
    """Entries with their span end; refuses entries that overlap (the 'better zip bomb')."""
    order = sorted(rows, key=lambda r: r.offset)
    ends: dict[str, int] = {}
    for k, r in enumerate(order):
        nxt = order[k + 1].offset if k + 1 < len(order) else cd_offset
        if r.offset + _LOCAL.size + r.name_bytes + r.csize > nxt:
            what = "the central directory" if k + 1 == len(order) else "the next entry"
            raise ArchiveError(f"entry {r.name[:200]!r} overlaps {what}", path=r.name[:200])
        ends[r.name] = nxt
    return [
        ZipEntry(r.name, r.offset, r.csize, r.usize, r.method, r.crc, ends[r.name]) for r in rows
    ]


def _locate_eocd(tail: bytes) -> int:
    pos = len(tail)
    while (pos := tail.rfind(_EOCD_SIG, 0, pos)) >= 0:
        if pos + _EOCD.size <= len(tail):
            comment = struct.unpack_from("<H", tail, pos + 20)[0]
            if pos + _EOCD.size + comment == len(tail):
                return pos
    return -1


def read_central_directory(
    read_range: ReadRange, size: int, limits: ZipLimits = DEFAULT_LIMITS
) -> CentralDirectory:
    """The archive's entries, every safety rule applied; at most three small reads."""
    start = max(0, size - _FIRST_TAIL)
    tail = read_range(start, size) if size else b""
    eocd = _locate_eocd(tail)
    if eocd < 0 and start > 0:
        start = max(0, size - (_EOCD.size + _MAX_COMMENT + _Z64_LOCATOR.size))
        tail = read_range(start, size)
        eocd = _locate_eocd(tail)
    if eocd < 0:
        raise ArchiveError("is not a zip archive (no end of central directory)")
    _, disk, cd_disk, _, count, cd_size, cd_offset, _ = _EOCD.unpack_from(tail, eocd)
    end_of_cd = start + eocd
    loc = eocd - _Z64_LOCATOR.size
    if loc >= 0 and tail[loc : loc + 4] == _Z64_LOCATOR_SIG:
        _, _, z64_offset, _ = _Z64_LOCATOR.unpack_from(tail, loc)
        if z64_offset + _Z64_EOCD.size > start + loc:
            raise ArchiveError("its ZIP64 end record is out of place")
        rec = _slice_or_read(read_range, tail, start, z64_offset, _Z64_EOCD.size)
        if rec[:4] != _Z64_EOCD_SIG:
            raise ArchiveError("its ZIP64 end record is corrupt")
        (_, _, _, _, disk, cd_disk, _, count, cd_size, cd_offset) = _Z64_EOCD.unpack(rec)
        end_of_cd = z64_offset
    if disk or cd_disk:
        raise ArchiveError("is a split (multi-part) archive; upload it as one .zip")
    if count > limits.max_entries:
        raise ArchiveError(f"holds {count:,} entries; the limit is {limits.max_entries:,}")
    if cd_size > limits.max_central_directory_bytes:
        raise ArchiveError(f"has a central directory of {cd_size:,} bytes (too large)")
    if cd_offset + cd_size > end_of_cd:
        raise ArchiveError("its central directory lies outside the archive")
    data = _slice_or_read(read_range, tail, start, cd_offset, cd_size)
    entries = _with_spans(_parse_central(data, count, limits), cd_offset)
    return CentralDirectory(entries, cd_offset, cd_size)


def _slice_or_read(read_range: ReadRange, tail: bytes, tail_start: int, at: int, n: int) -> bytes:
    if at >= tail_start and at + n <= tail_start + len(tail):
        return tail[at - tail_start : at - tail_start + n]
    data = read_range(at, at + n)
    if len(data) != n:
        raise ArchiveError("is truncated")
    return data


# --------------------------------------------------------------------------- the dataset root


def find_dataset_root(names: Iterable[str], marker: str = "data.yaml") -> str | None:
    """``""`` when ``marker`` is at the archive root, ``"top/"`` when it sits in the one
    top-level folder, else ``None``. Folder entries alone (an empty folder) and Finder's
    ``__MACOSX/`` do not count as a second top-level folder: they hold no dataset file."""
    files = [n for n in names if not n.startswith(_MACOS_FORK) and not n.endswith("/")]
    if marker in files:
        return ""
    tops = {n.split("/", 1)[0] for n in files}
    if len(tops) == 1:
        top = tops.pop() + "/"
        if top + marker in files:
            return top
    return None


def dataset_entries(
    entries: Iterable[ZipEntry], marker: str = "data.yaml"
) -> tuple[str, list[ZipEntry]] | None:
    """The dataset in an archive, read one way by the launcher and the container: its root
    (``find_dataset_root``) and the entries below it (folders included, ``__MACOSX/``
    aside), or ``None`` when no ``marker`` is where a dataset root may be. A classification
    archive needs no marker: its class folders (``train/<class>/``) mark the root."""
    entries = list(entries)
    root = find_dataset_root((e.name for e in entries), marker)
    if root is None:
        root = classify_root(e.name for e in entries)
    if root is None:
        return None
    inside = [
        e
        for e in entries
        if e.name.startswith(root) and e.name != root and not e.name.startswith(_MACOS_FORK)
    ]
    return root, inside


# --------------------------------------------------------------------------- reading entries


@dataclass(frozen=True)
class Span:
    """One ranged read covering the entries in ``entries`` (sorted by offset)."""

    start: int
    end: int
    entries: tuple[ZipEntry, ...]


def plan_ranges(
    entries: Iterable[ZipEntry], max_gap: int = 256 * 1024, max_span: int = 16 * MIB
) -> list[Span]:
    """Coalesce neighbouring entries: one read may skip up to ``max_gap`` bytes of others
    and stays under ``max_span`` (a single larger entry is read alone)."""
    spans: list[Span] = []
    group: list[ZipEntry] = []
    for e in sorted(entries, key=lambda e: e.offset):
        if group and (e.offset - group[-1].end > max_gap or e.end - group[0].offset > max_span):
            spans.append(Span(group[0].offset, group[-1].end, tuple(group)))
            group = []
        group.append(e)
    if group:
        spans.append(Span(group[0].offset, group[-1].end, tuple(group)))
    return spans


def inflate(entry: ZipEntry, chunks: Iterable[bytes]) -> Iterator[bytes]:
    """The entry's bytes from its compressed data, in pieces of at most 1 MiB.

    Stops (``ArchiveError``) as soon as the output passes the declared size, so a lying
    header costs one step of memory and time, never the bomb's size; checks the CRC.
    """
    produced = 0
    crc = 0
    d = zlib.decompressobj(-zlib.MAX_WBITS) if entry.method == _DEFLATED else None
    for chunk in chunks:
        data = chunk
        while data:
            if d is None:
                out, data = data, b""
            else:
                try:
                    out = d.decompress(data, _INFLATE_STEP)
                except zlib.error as exc:
                    raise ArchiveError(f"entry {entry.name!r} is corrupt", entry.name) from exc
                data = d.unconsumed_tail
            produced += len(out)
            if produced > entry.size:
                raise ArchiveError(
                    f"entry {entry.name!r} inflates beyond its declared {entry.size:,} bytes",
                    entry.name,
                )
            crc = zlib.crc32(out, crc)
            yield out
            if d is not None and d.eof:
                break
    if (d is not None and not d.eof and entry.size) or produced != entry.size:
        raise ArchiveError(f"entry {entry.name!r} is truncated", entry.name)
    if crc != entry.crc:
        raise ArchiveError(f"entry {entry.name!r} fails its CRC check (corrupt)", entry.name)


def data_offset(entry: ZipEntry, header: bytes) -> int:
    """Where the entry's compressed data starts, from its local header's first bytes."""
    if len(header) < _LOCAL.size or header[:4] != _LOCAL_SIG:
        raise ArchiveError(f"entry {entry.name!r} has no local header", entry.name)
    n_len, e_len = _LOCAL.unpack_from(header)[9:11]
    start = entry.offset + _LOCAL.size + n_len + e_len
    if start + entry.compressed_size > entry.end:
        raise ArchiveError(f"entry {entry.name!r} overlaps the next entry", entry.name)
    return start


def entry_from_span(entry: ZipEntry, buf: bytes, buf_start: int) -> bytes:
    """The inflated entry out of a fetched span (``buf`` starts at offset ``buf_start``)."""
    at = entry.offset - buf_start
    start = data_offset(entry, buf[at : at + _LOCAL.size]) - buf_start
    raw = buf[start : start + entry.compressed_size]
    if len(raw) != entry.compressed_size:
        raise ArchiveError(f"entry {entry.name!r} is truncated", entry.name)
    return b"".join(inflate(entry, [raw]))


class ZipArchive:
    """An archive opened through ``read_range``; reads entries by name, in coalesced spans."""

    def __init__(self, read_range: ReadRange, size: int, limits: ZipLimits = DEFAULT_LIMITS):
        self.read_range = read_range
        self.size = size
        self.limits = limits
        self.directory = read_central_directory(read_range, size, limits)
        self.by_name = {e.name: e for e in self.directory.entries}

    def files(self) -> list[ZipEntry]:
        return [e for e in self.directory.entries if not e.is_dir]

    def _entry(self, name: str, max_bytes: int | None) -> ZipEntry:
        entry = self.by_name.get(name)
        if entry is None or entry.is_dir:
            raise StorageError(f"{name} is not in the archive")
        if max_bytes is not None and entry.size > max_bytes:
            raise FileTooLargeError(f"{name} is larger than {max_bytes:,} bytes")
        return entry

    def read(self, name: str, max_bytes: int | None = None) -> bytes:
        entry = self._entry(name, max_bytes)
        return entry_from_span(entry, self.read_range(entry.offset, entry.end), entry.offset)

    def spans(self, names: Sequence[str], max_bytes: int | None = None) -> list[Span]:
        return plan_ranges(self._entry(n, max_bytes) for n in names)

    def read_span(self, span: Span) -> Iterator[tuple[str, bytes]]:
        """The span's entries, inflated one at a time as the caller takes them: a span of
        highly compressed labels never holds more than one of them inflated."""
        buf = self.read_range(span.start, span.end)
        if len(buf) != span.end - span.start:
            raise ArchiveError("is truncated")
        for e in span.entries:
            yield e.name, entry_from_span(e, buf, span.start)


def stream_entry(read_range: ReadRange, entry: ZipEntry, chunk: int = 4 * MIB) -> Iterator[bytes]:
    """The entry inflated piece by piece, its compressed data read ``chunk`` bytes at a
    time: memory stays flat however large the entry (an image to extract)."""
    start = data_offset(entry, read_range(entry.offset, entry.offset + _LOCAL.size))
    end = start + entry.compressed_size

    def compressed() -> Iterator[bytes]:
        for at in range(start, end, chunk):
            piece = read_range(at, min(end, at + chunk))
            if not piece:
                raise ArchiveError(f"entry {entry.name!r} is truncated", entry.name)
            yield piece

    return inflate(entry, compressed())
