"""An image's size from its first bytes, without decoding it: PNG (IHDR) and JPEG (the SOF
marker, turned by the EXIF orientation as Ultralytics' ``exif_size`` does). Other formats
give None: their size is left to training."""

from __future__ import annotations

import struct

from yolo_pipeline.dataset.validation.tasks import png

HEAD_BYTES = 256 * 1024  # enough for the JPEG markers before SOF, EXIF thumbnails included
_SOF = frozenset({0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF})
_ORIENTATION_TAG = 274


def image_size(head: bytes) -> tuple[int, int] | None:
    """(height, width) as Ultralytics measures it, or None when unknown."""
    if png.is_png(head):
        try:
            header = png.read_header(head)
        except png.PngError:
            return None
        return header.height, header.width
    if head[:2] == b"\xff\xd8":
        return _jpeg_size(head)
    return None


def _jpeg_size(data: bytes) -> tuple[int, int] | None:
    pos, turned = 2, False
    while pos + 4 <= len(data):
        if data[pos] != 0xFF:
            return None
        marker = data[pos + 1]
        if marker == 0xFF:  # fill byte
            pos += 1
            continue
        (length,) = struct.unpack(">H", data[pos + 2 : pos + 4])
        body = data[pos + 4 : pos + 2 + length]
        if marker == 0xE1 and body[:6] == b"Exif\x00\x00":
            turned = _exif_turned(body[6:])
        if marker in _SOF and len(body) >= 5:
            height, width = struct.unpack(">HH", body[1:5])
            return (width, height) if turned else (height, width)
        pos += 2 + length
    return None


def _exif_turned(tiff: bytes) -> bool:
    """EXIF orientation 5-8 (a quarter turn): width and height swap."""
    try:
        order = "<" if tiff[:2] == b"II" else ">"
        (offset,) = struct.unpack(order + "I", tiff[4:8])
        (count,) = struct.unpack(order + "H", tiff[offset : offset + 2])
        for i in range(min(count, 512)):
            entry = tiff[offset + 2 + 12 * i : offset + 14 + 12 * i]
            tag, _, _ = struct.unpack(order + "HHI", entry[:8])
            if tag == _ORIENTATION_TAG:
                (value,) = struct.unpack(order + "H", entry[8:10])
                return value in {5, 6, 7, 8}
    except struct.error:
        return False
    return False
