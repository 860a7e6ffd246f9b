"""Zip archives for the tests: real ones from a file mapping, and hand-built hostile ones.

``zip_files`` uses the standard library (what users' tools write). ``build_zip`` writes
every header itself, so a test can declare any name, size, flag, attribute or offset, and
force ZIP64 records on a tiny archive; the standard library reads its honest output back
(checked in the tests), so the format is right.
"""

from __future__ import annotations

import io
import stat
import struct
import zipfile
import zlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

UNIX_FILE = (stat.S_IFREG | 0o644) << 16
UNIX_LINK = (stat.S_IFLNK | 0o777) << 16
UNIX_FIFO = (stat.S_IFIFO | 0o644) << 16


def zip_files(files: Mapping[str, bytes], top: str = "", stored: tuple[str, ...] = ()) -> bytes:
    """A zip of ``files`` (under folder ``top`` when given), deflated except ``stored`` suffixes."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in sorted(files.items()):
            method = zipfile.ZIP_STORED if name.endswith(stored) else zipfile.ZIP_DEFLATED
            zf.writestr(top + name, data, compress_type=method)
    return buf.getvalue()


def write_zip(path: Path, files: Mapping[str, bytes], top: str = "") -> Path:
    path.write_bytes(zip_files(files, top))
    return path


@dataclass
class Raw:
    """One entry exactly as the headers will say it."""

    name: str
    data: bytes = b""  # the uncompressed content (compressed here unless ``payload``)
    method: int = 8
    payload: bytes | None = None  # compressed bytes to store instead of deflating ``data``
    size: int | None = None  # declared uncompressed size (default: the real one)
    crc: int | None = None
    flags: int = 0x800
    made_by: int = (3 << 8) | 20
    attrs: int = UNIX_FILE
    offset_delta: int = 0  # shift the central directory's offset (overlaps)
    extra: dict[str, int] = field(default_factory=dict)
    name_bytes: bytes | None = None  # the stored name, when not ``name`` in UTF-8
    extra_field: bytes = b""  # raw extra fields (tag, length, body), central and local


def _deflate(data: bytes) -> bytes:
    c = zlib.compressobj(6, zlib.DEFLATED, -zlib.MAX_WBITS)
    return c.compress(data) + c.flush()


def build_zip(entries: list[Raw], *, zip64: bool = False, comment: bytes = b"") -> bytes:
    """An archive of ``entries``; ``zip64`` marks every size and offset 0xFFFFFFFF and
    writes the ZIP64 extra fields and end records."""
    out = bytearray()
    central = bytearray()
    for e in entries:
        name = e.name.encode("utf-8") if e.name_bytes is None else e.name_bytes
        body = (
            e.payload if e.payload is not None else (_deflate(e.data) if e.method == 8 else e.data)
        )
        size = len(e.data) if e.size is None else e.size
        crc = zlib.crc32(e.data) if e.crc is None else e.crc
        offset = len(out)
        extra = (
            struct.pack("<2H3Q", 1, 24, size, len(body), offset + e.offset_delta) if zip64 else b""
        )
        local_extra = struct.pack("<2H2Q", 1, 16, size, len(body)) if zip64 else b""
        extra += e.extra_field
        local_extra += e.extra_field
        mark = 0xFFFFFFFF
        out += struct.pack(
            "<4s5H3L2H", b"PK\x03\x04", 45 if zip64 else 20, e.flags, e.method, 0, 0x21,
            crc, mark if zip64 else len(body), mark if zip64 else size, len(name), len(local_extra),
        )  # fmt: skip
        out += name + local_extra + body
        central += struct.pack(
            "<4s6H3L5H2L", b"PK\x01\x02", e.made_by, 45 if zip64 else 20, e.flags, e.method, 0,
            0x21, crc, mark if zip64 else len(body), mark if zip64 else size, len(name),
            len(extra), 0, 0, 0, e.attrs, mark if zip64 else offset + e.offset_delta,
        )  # fmt: skip
        central += name + extra
    cd_offset, cd_size, n = len(out), len(central), len(entries)
    out += central
    if zip64:
        z64_at = len(out)
        out += struct.pack("<4sQ2H2L4Q", b"PK\x06\x06", 44, 45, 45, 0, 0, n, n, cd_size, cd_offset)
        out += struct.pack("<4sLQL", b"PK\x06\x07", 0, z64_at, 1)
        out += struct.pack(
            "<4s4H2LH", b"PK\x05\x06", 0, 0, 0xFFFF, 0xFFFF, 0xFFFFFFFF, 0xFFFFFFFF, len(comment)
        )
    else:
        out += struct.pack("<4s4H2LH", b"PK\x05\x06", 0, 0, n, n, cd_size, cd_offset, len(comment))
    return bytes(out + comment)


def zeros_deflate(gib: float) -> bytes:
    """A raw deflate stream of ``gib`` GiB of zeros, built in milliseconds.

    After a full flush the compressor's state is reset, so the bytes for each further MiB
    of zeros are identical and can be repeated instead of computed.
    """
    mib = b"\x00" * (1024 * 1024)
    c = zlib.compressobj(9, zlib.DEFLATED, -zlib.MAX_WBITS)
    head = c.compress(mib) + c.flush(zlib.Z_FULL_FLUSH)
    mid = c.compress(mib) + c.flush(zlib.Z_FULL_FLUSH)
    again = c.compress(mib) + c.flush(zlib.Z_FULL_FLUSH)
    assert mid == again, "full-flush blocks are not repeatable on this zlib"
    tail = c.flush()
    return head + mid * (int(gib * 1024) - 1) + tail
