"""A .npy depth map's header, read without numpy and never with pickle.

The header is a Python literal (``{'descr': '<f4', 'fortran_order': False, 'shape': (h, w)}``)
after a magic string and a length: parsed with ``ast.literal_eval`` (literals only), its dtype
must be a plain float, and the file's size must be exactly header plus data, so a lying header
or an object array (a pickle) is refused before any value is read.
"""

from __future__ import annotations

import ast
import struct
from dataclasses import dataclass

from yolo_pipeline.errors import PipelineError

MAGIC = b"\x93NUMPY"
MAX_HEADER_BYTES = 64 * 1024
_FLOATS = {"f2": 2, "f4": 4, "f8": 8}


class NpyError(PipelineError):
    """Not a .npy depth map Ultralytics can load; the message says why."""


@dataclass(frozen=True)
class NpyHeader:
    dtype: str
    shape: tuple[int, ...]
    data_offset: int


def read_header(head: bytes) -> NpyHeader:
    """The header from the file's first bytes (at least 10 + header length)."""
    if head[:6] != MAGIC or len(head) < 10:
        raise NpyError("is not a .npy file (no NUMPY magic)")
    major = head[6]
    if major == 1:
        (length,), start = struct.unpack("<H", head[8:10]), 10
    elif major in (2, 3):
        (length,), start = struct.unpack("<I", head[8:12]), 12
    else:
        raise NpyError(f"has an unknown .npy version {major}")
    if length > MAX_HEADER_BYTES or start + length > len(head):
        raise NpyError("has a .npy header longer than the file or than 64 KB")
    try:
        text = head[start : start + length].decode("latin-1")
        fields = ast.literal_eval(text)
    except (ValueError, SyntaxError, MemoryError, RecursionError) as exc:
        raise NpyError("has a .npy header that is not a plain literal") from exc
    if not isinstance(fields, dict) or not {"descr", "shape"} <= set(fields):
        raise NpyError("has a .npy header without descr and shape")
    descr, shape = fields["descr"], fields["shape"]
    if not isinstance(descr, str):
        raise NpyError("holds a structured array, not a depth map")
    if "O" in descr:
        raise NpyError("holds Python objects (a pickle); a depth map is an array of floats")
    if not isinstance(shape, tuple) or not all(isinstance(n, int) and n >= 0 for n in shape):
        raise NpyError("has a .npy header whose shape is not a tuple of sizes")
    return NpyHeader(descr, shape, start + length)


def check_depth_npy(head: bytes, file_size: int) -> tuple[int, int]:
    """(height, width) of a 2-D float .npy whose size matches its header; NpyError otherwise.
    Ultralytics' rule: depth NPY must be 2D and floating-point."""
    header = read_header(head)
    kind = header.dtype.lstrip("<>=|")
    if kind not in _FLOATS:
        raise NpyError(f"has dtype {header.dtype[:20]!r}; depth NPY must be 2D and floating-point")
    if len(header.shape) != 2:
        raise NpyError(f"has shape {header.shape[:4]}; depth NPY must be 2D and floating-point")
    height, width = header.shape
    expected = header.data_offset + height * width * _FLOATS[kind]
    if file_size != expected:
        raise NpyError(
            f"is {file_size:,} bytes but its header promises {expected:,} (a lying header?)"
        )
    return height, width
