"""Parse and bound one ``POST /invocations`` request, before any image is decoded.

Bodies: ``image/jpeg``, ``image/png`` (or ``application/x-image`` holding either) with
options in SageMaker's ``X-Amzn-SageMaker-Custom-Attributes`` header (``conf=0.5;imgsz=640``),
or ``application/json``: ``{"image": "<base64>"}`` or ``{"images": [...]}`` plus the options
as keys. Each image is checked by its header (format, width x height) before it is decoded,
so a small file that would inflate to gigapixels is refused cheaply.
"""

from __future__ import annotations

import base64
import binascii
import io
import json
import math
import warnings
from dataclasses import dataclass, field
from typing import Any

from PIL import Image, UnidentifiedImageError

from yolo_pipeline.serving.errors import ServingError, UnsupportedMediaType
from yolo_pipeline.text import quote

JPEG, PNG, JSON = "image/jpeg", "image/png", "application/json"
ANY_IMAGE = "application/x-image"
CONTENT_TYPES = (JPEG, PNG, ANY_IMAGE, JSON)
_MAGIC = {JPEG: b"\xff\xd8\xff", PNG: b"\x89PNG\r\n\x1a\n"}
_PIL_FORMATS = {"JPEG": JPEG, "PNG": PNG}
MAX_IMAGES = 8  # per JSON request
MAX_PIXELS = 40_000_000  # per image (a 12-bit-deep 40 MP RGB frame is ~0.5 GB decoded)
CUSTOM_ATTRIBUTES = "X-Amzn-SageMaker-Custom-Attributes"
# name -> (type, minimum, maximum): Ultralytics' predict arguments a request may set.
OPTIONS: dict[str, tuple[type, float, float]] = {
    "conf": (float, 0.0, 1.0),
    "iou": (float, 0.0, 1.0),
    "imgsz": (int, 32, 4096),
    "max_det": (int, 1, 3000),
}


@dataclass(frozen=True)
class Picture:
    """One image of a request: its bytes, checked format and size (not yet decoded)."""

    data: bytes
    content_type: str
    width: int
    height: int


@dataclass(frozen=True)
class PredictRequest:
    images: list[Picture]
    options: dict[str, float | int] = field(default_factory=dict)


def media_type(header: str | None) -> str:
    """``Content-Type`` without parameters, lower case (``""`` when absent)."""
    return (header or "").split(";", 1)[0].strip().lower()


def option_value(name: str, raw: Any) -> float | int:
    """One option checked against OPTIONS; a ServingError names what is wrong."""
    if name not in OPTIONS:
        known = ", ".join(OPTIONS)
        raise ServingError(f"unknown option {quote(name, 40)} (known: {known})")
    kind, low, high = OPTIONS[name]
    try:
        if isinstance(raw, bool) or raw is None:
            raise ValueError
        value = kind(raw) if kind is float else int(str(raw).strip())
    except (TypeError, ValueError):
        raise ServingError(f"option {name} must be a number, not {quote(raw, 40)}") from None
    if not (isinstance(value, int) or math.isfinite(value)) or not low <= value <= high:
        raise ServingError(f"option {name}={quote(raw, 40)} is outside [{low:g}, {high:g}]")
    return value


def parse_attributes(header: str | None) -> dict[str, float | int]:
    """``conf=0.5;imgsz=640`` (SageMaker's custom attributes) -> checked options."""
    options: dict[str, float | int] = {}
    for item in (header or "").split(";"):
        if not item.strip():
            continue
        name, sep, raw = item.partition("=")
        if not sep:
            raise ServingError(f"custom attribute {quote(item, 40)} is not name=value")
        options[name.strip()] = option_value(name.strip(), raw)
    return options


def picture(data: bytes, declared: str, max_pixels: int = MAX_PIXELS) -> Picture:
    """Check one image by its magic bytes and header; nothing is decoded here."""
    kind = next((t for t, magic in _MAGIC.items() if data.startswith(magic)), None)
    if kind is None or declared not in (kind, ANY_IMAGE, JSON):
        expected = {JPEG: "a JPEG", PNG: "a PNG"}.get(declared, "a JPEG or PNG")
        raise ServingError(f"the body is not {expected} image")
    try:
        with warnings.catch_warnings():  # our own pixel limit below is the one that counts
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as image:  # reads the header only
                width, height = image.size
                found = _PIL_FORMATS.get(image.format or "")
    except Image.DecompressionBombError:
        raise ServingError(f"the image has more than {max_pixels / 1e6:.0f} MP") from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
        raise ServingError(f"the image cannot be read: {quote(str(exc), 120)}") from None
    if found != kind or width < 1 or height < 1:
        raise ServingError("the image header is damaged")
    if width * height > max_pixels:
        raise ServingError(
            f"the image is {width}x{height} ({width * height / 1e6:.0f} MP); "
            f"at most {max_pixels / 1e6:.0f} MP are accepted"
        )
    return Picture(data, kind, width, height)


def _json_images(payload: dict[str, Any]) -> list[bytes]:
    if "image" in payload and "images" in payload:
        raise ServingError('give either "image" or "images", not both')
    raw = payload.get("images", [payload["image"]] if "image" in payload else None)
    if not isinstance(raw, list) or not raw:
        raise ServingError('the JSON body needs "image" (base64) or "images" (a list of them)')
    if len(raw) > MAX_IMAGES:
        raise ServingError(f"{len(raw)} images in one request; at most {MAX_IMAGES}")
    decoded = []
    for item in raw:
        if not isinstance(item, str):
            raise ServingError("each image must be a base64 string")
        try:
            decoded.append(base64.b64decode(item.split(",", 1)[-1], validate=True))
        except (binascii.Error, ValueError):
            raise ServingError("an image is not valid base64") from None
    return decoded


def parse_json(body: bytes, max_pixels: int = MAX_PIXELS) -> PredictRequest:
    try:
        payload = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ServingError(f"the body is not JSON: {quote(str(exc), 120)}") from None
    if not isinstance(payload, dict):
        raise ServingError("the JSON body must be an object")
    options = {
        name: option_value(name, value)
        for name, value in payload.items()
        if name not in ("image", "images")
    }
    pictures = [picture(data, JSON, max_pixels) for data in _json_images(payload)]
    return PredictRequest(pictures, options)


def parse_request(
    content_type: str | None,
    body: bytes,
    attributes: str | None = None,
    max_pixels: int = MAX_PIXELS,
) -> PredictRequest:
    """The request's images and options, or a ServingError (4xx) saying what is wrong."""
    kind = media_type(content_type)
    if kind not in CONTENT_TYPES:
        accepted = ", ".join(CONTENT_TYPES)
        raise UnsupportedMediaType(
            f"content type {quote(kind or 'missing', 60)} is not served; use one of {accepted}"
        )
    if not body:
        raise ServingError("the request body is empty")
    if kind == JSON:
        request = parse_json(body, max_pixels)
        if attributes:
            return PredictRequest(request.images, parse_attributes(attributes) | request.options)
        return request
    return PredictRequest([picture(body, kind, max_pixels)], parse_attributes(attributes))
