"""In-memory datasets of the tasks without label rows (classify, semantic, depth), and the
binary files they hold, written byte by byte: PNGs (any size, depth, colour type, or a
header that lies), .npy files (honest, pickled, lying). No Pillow or numpy needed."""

from __future__ import annotations

import struct
import zlib
from collections.abc import Callable, Sequence

Files = dict[str, bytes]
_CHANNELS = {0: 1, 2: 3, 3: 1, 4: 2, 6: 4}


def _chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def png_bytes(
    width: int,
    height: int,
    pixel: Callable[[int, int], int | Sequence[int]] = lambda x, y: 0,
    *,
    depth: int = 8,
    color: int = 0,
    palette: Sequence[tuple[int, int, int]] | None = None,
    filters: Sequence[int] = (0,),
) -> bytes:
    """A real PNG: ``pixel(x, y)`` gives the sample(s); rows cycle through ``filters``
    (0 none, 1 sub, 2 up, 3 average, 4 paeth) so a reader must undo every one."""
    channels = _CHANNELS[color]
    bpp = max(1, channels * depth // 8)
    raw = bytearray()
    prev = bytes((width * channels * depth + 7) // 8)
    for y in range(height):
        row = _row([pixel(x, y) for x in range(width)], depth, channels)
        kind = filters[y % len(filters)]
        raw.append(kind)
        raw += _filter(kind, row, prev, bpp)
        prev = row
    header = struct.pack(">IIBBBBB", width, height, depth, color, 0, 0, 0)
    body = b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", header)
    if palette is not None:
        body += _chunk(b"PLTE", b"".join(bytes(c) for c in palette))
    return body + _chunk(b"IDAT", zlib.compress(bytes(raw))) + _chunk(b"IEND", b"")


def png_header_only(width: int, height: int, depth: int = 8, color: int = 0) -> bytes:
    """A PNG whose header claims ``width`` x ``height`` and whose data is a few bytes."""
    header = struct.pack(">IIBBBBB", width, height, depth, color, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + _chunk(b"IHDR", header)
        + _chunk(b"IDAT", zlib.compress(b"\x00" * 64))
        + _chunk(b"IEND", b"")
    )


def png_bomb(width: int = 64, height: int = 64, inflated: int = 512 * 1024 * 1024) -> bytes:
    """A small PNG that says ``width`` x ``height`` but whose data inflates to ``inflated``
    bytes (a decompression bomb: about 0.5 MB on disk for 512 MB)."""
    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    compressor = zlib.compressobj(9)
    block = b"\x00" * (1 << 20)
    data = b"".join(compressor.compress(block) for _ in range(inflated >> 20)) + compressor.flush()
    return (
        b"\x89PNG\r\n\x1a\n"
        + _chunk(b"IHDR", header)
        + _chunk(b"IDAT", data)
        + _chunk(b"IEND", b"")
    )


def _row(samples: list[int | Sequence[int]], depth: int, channels: int) -> bytes:
    flat = [v for s in samples for v in ((s,) if isinstance(s, int) else s)]
    if depth == 8:
        return bytes(flat)
    if depth == 16:
        return struct.pack(f">{len(flat)}H", *flat)
    out, per = bytearray(), 8 // depth
    for i in range(0, len(flat), per):
        byte = 0
        for k, v in enumerate(flat[i : i + per]):
            byte |= v << (8 - depth * (k + 1))
        out.append(byte)
    return bytes(out)


def _paeth(a: int, b: int, c: int) -> int:
    p = a + b - c
    pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
    return a if pa <= pb and pa <= pc else (b if pb <= pc else c)


def _filter(kind: int, row: bytes, prev: bytes, bpp: int) -> bytes:
    out = bytearray()
    for i, x in enumerate(row):
        a = row[i - bpp] if i >= bpp else 0
        b, c = prev[i], (prev[i - bpp] if i >= bpp else 0)
        predictor = {0: 0, 1: a, 2: b, 3: (a + b) >> 1, 4: _paeth(a, b, c)}[kind]
        out.append((x - predictor) & 0xFF)
    return bytes(out)


def rgb_image(width: int = 16, height: int = 16) -> bytes:
    return png_bytes(width, height, lambda x, y: (x * 8 % 256, y * 8 % 256, 90), color=2)


def npy_bytes(shape: tuple[int, ...], descr: str = "<f4", body: bytes | None = None) -> bytes:
    """A version 1.0 .npy: its header, then ``body`` (zeros of the right size by default)."""
    header = f"{{'descr': '{descr}', 'fortran_order': False, 'shape': {shape!r}, }}"
    header += " " * (-(10 + len(header) + 1) % 64) + "\n"
    size = 1
    for n in shape:
        size *= n
    itemsize = int(descr[-1]) if descr[-1].isdigit() else 8
    data = bytes(size * itemsize) if body is None else body
    return b"\x93NUMPY\x01\x00" + struct.pack("<H", len(header)) + header.encode() + data


def classify_files(
    classes: Sequence[str] = ("cat", "dog"), n_train: int = 3, n_val: int = 2
) -> Files:
    files: Files = {"data.yaml": b"task: classify\n"}
    for split, count in (("train", n_train), ("val", n_val)):
        for name in classes:
            for i in range(count):
                files[f"{split}/{name}/{name}_{i}.png"] = rgb_image()
    return files


def semantic_files(
    nc: int = 3, n_train: int = 3, n_val: int = 2, size: int = 16, extra_yaml: str = ""
) -> Files:
    """images/<split>/*.png with masks/<split>/*.png of ids below ``nc`` plus a 255 corner."""
    names = "".join(f"  {i}: class{i}\n" for i in range(nc))
    files: Files = {
        "data.yaml": (
            f"train: images/train\nval: images/val\nmasks_dir: masks\nnames:\n{names}{extra_yaml}"
        ).encode()
    }
    for split, count in (("train", n_train), ("val", n_val)):
        for i in range(count):
            files[f"images/{split}/{i}.png"] = rgb_image(size, size)
            files[f"masks/{split}/{i}.png"] = png_bytes(
                size,
                size,
                lambda x, y: 255 if x == y == 0 else (x // 4) % nc,
                filters=(0, 1, 2, 3, 4),
            )
    return files


def depth_files(n_train: int = 3, n_val: int = 2, size: int = 16, npy: bool = False) -> Files:
    """images/<split>/*.png with depth/<split>/*.png (16-bit, mm) or *.npy (float32, m)."""
    files: Files = {
        "data.yaml": b"train: images/train\nval: images/val\nnc: 1\nnames:\n  0: depth\n"
        b"depth_scale: 1000\n"
    }
    for split, count in (("train", n_train), ("val", n_val)):
        for i in range(count):
            files[f"images/{split}/{i}.png"] = rgb_image(size, size)
            if npy:
                files[f"depth/{split}/{i}.npy"] = npy_bytes((size, size))
            else:
                files[f"depth/{split}/{i}.png"] = png_bytes(
                    size, size, lambda x, y: 1000 + 100 * x, depth=16, filters=(0, 2, 4)
                )
    return files
