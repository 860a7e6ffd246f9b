"""PNG files read without Pillow or numpy (the Lambda has neither), within bounds.

The header (IHDR) gives size, bit depth and colour type from the first 33 bytes; the pixel
values of a single-channel mask come from a bounded inflate (never past the size the header
promises, so a decompression bomb stops at once) and PNG's row filters undone in Python.
"""

from __future__ import annotations

import struct
import zlib
from collections.abc import Iterator
from dataclasses import dataclass

from yolo_pipeline.errors import PipelineError

SIGNATURE = b"\x89PNG\r\n\x1a\n"
GRAY, RGB, PALETTE, GRAY_ALPHA, RGBA = 0, 2, 3, 4, 6
_CHANNELS = {GRAY: 1, RGB: 3, PALETTE: 1, GRAY_ALPHA: 2, RGBA: 4}


class PngError(PipelineError):
    """Not a PNG we can read; the message says why, for a user."""


@dataclass(frozen=True)
class PngHeader:
    width: int
    height: int
    bit_depth: int
    color_type: int
    interlaced: bool

    @property
    def pixels(self) -> int:
        return self.width * self.height

    @property
    def row_bytes(self) -> int:
        return (self.width * _CHANNELS.get(self.color_type, 4) * self.bit_depth + 7) // 8


def is_png(data: bytes) -> bool:
    return data[:8] == SIGNATURE


def read_header(data: bytes) -> PngHeader:
    """IHDR: the first chunk of every PNG."""
    if not is_png(data):
        raise PngError("is not a PNG file (no PNG signature)")
    if len(data) < 33 or data[12:16] != b"IHDR":
        raise PngError("is a truncated PNG (no IHDR header)")
    width, height, depth, color, _, _, interlace = struct.unpack(">IIBBBBB", data[16:29])
    if width == 0 or height == 0 or color not in _CHANNELS:
        raise PngError(f"has an invalid PNG header ({width}x{height}, colour type {color})")
    return PngHeader(width, height, depth, color, interlace == 1)


def _chunks(data: bytes) -> Iterator[tuple[bytes, bytes]]:
    pos = 8
    while pos + 8 <= len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        kind = data[pos + 4 : pos + 8]
        if pos + 12 + length > len(data):
            raise PngError("is a truncated PNG (a chunk runs past the end of the file)")
        yield kind, data[pos + 8 : pos + 8 + length]
        pos += 12 + length
        if kind == b"IEND":
            return


def palette(data: bytes) -> list[tuple[int, int, int]] | None:
    for kind, body in _chunks(data):
        if kind == b"PLTE":
            return [tuple(body[i : i + 3]) for i in range(0, len(body) - 2, 3)]  # type: ignore[misc]
    return None


def _inflate(data: bytes, header: PngHeader) -> bytes:
    """The filtered rows, inflated at most to the size IHDR promises (bomb-proof)."""
    expected = header.height * (1 + header.row_bytes)
    inflater = zlib.decompressobj()
    out = bytearray()
    try:
        for kind, body in _chunks(data):
            if kind == b"IDAT":
                out += inflater.decompress(body, expected + 1 - len(out))
                if len(out) > expected or inflater.unconsumed_tail:
                    raise PngError(
                        "holds more pixel data than its size says (a decompression bomb?)"
                    )
    except zlib.error as exc:
        raise PngError(f"has damaged pixel data ({exc})") from exc
    if len(out) < expected:
        raise PngError("is a truncated PNG (less pixel data than its size says)")
    return bytes(out)


def check_pixel_data(data: bytes, header: PngHeader) -> None:
    """The pixel data inflates to exactly the size the header promises; PngError otherwise."""
    _inflate(data, header)


def _paeth(a: int, b: int, c: int) -> int:
    p = a + b - c
    pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
    return a if pa <= pb and pa <= pc else (b if pb <= pc else c)


def _unfilter(kind: int, row: bytes, prev: bytes, bpp: int) -> bytes:
    if kind == 0:
        return row
    if kind == 2:
        return bytes((x + p) & 0xFF for x, p in zip(row, prev, strict=True))
    out = bytearray(row)
    for i in range(len(out)):
        left = out[i - bpp] if i >= bpp else 0
        if kind == 1:
            out[i] = (out[i] + left) & 0xFF
        elif kind == 3:
            out[i] = (out[i] + ((left + prev[i]) >> 1)) & 0xFF
        elif kind == 4:
            up_left = prev[i - bpp] if i >= bpp else 0
            out[i] = (out[i] + _paeth(left, prev[i], up_left)) & 0xFF
        else:
            raise PngError(f"has an unknown row filter ({kind})")
    return bytes(out)


def _samples(row: bytes, depth: int, width: int) -> set[int]:
    if depth == 8:
        return set(row)
    if depth == 16:
        return set(struct.unpack(f">{len(row) // 2}H", row))
    per_byte = 8 // depth
    mask = (1 << depth) - 1
    values: set[int] = set()
    for byte in set(row):  # distinct bytes first: a mask has few
        values.update((byte >> (8 - depth * (k + 1))) & mask for k in range(per_byte))
    if width % per_byte:  # the last byte's padding bits are not pixels: recount it
        last = row[-1]
        values.update((last >> (8 - depth * (k + 1))) & mask for k in range(width % per_byte))
    return values


def sample_values(data: bytes, header: PngHeader) -> set[int]:
    """The distinct sample values of a single-channel, non-interlaced PNG (gray levels or
    palette indices). The caller bounds ``header.pixels`` first."""
    if _CHANNELS[header.color_type] != 1 or header.interlaced:
        raise PngError("is not a single-channel, non-interlaced PNG")
    raw = _inflate(data, header)
    stride = 1 + header.row_bytes
    bpp = max(1, header.bit_depth // 8)
    prev = bytes(header.row_bytes)
    values: set[int] = set()
    for y in range(header.height):
        line = raw[y * stride : (y + 1) * stride]
        prev = _unfilter(line[0], line[1:], prev, bpp)
        values |= _samples(prev, header.bit_depth, header.width)
    return values
