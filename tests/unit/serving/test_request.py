"""Request parsing: content types, JSON bodies, options and the header checks before decoding."""

from __future__ import annotations

import base64
import io
import json
import struct
import zlib

import pytest
from PIL import Image

from yolo_pipeline.serving.errors import ServingError, UnsupportedMediaType
from yolo_pipeline.serving.request import (
    MAX_IMAGES,
    media_type,
    option_value,
    parse_attributes,
    parse_request,
)

pytestmark = pytest.mark.unit


def encoded(fmt: str, size: tuple[int, int] = (40, 30)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, (10, 200, 30)).save(buffer, format=fmt)
    return buffer.getvalue()


def png_header_only(width: int, height: int) -> bytes:
    """A PNG whose header claims width x height, with one tiny (wrong) IDAT: never decoded."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = zlib.crc32(kind + data) & 0xFFFFFFFF
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    idat = zlib.compress(b"\x00" * 16)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")


@pytest.mark.parametrize(("content_type", "fmt"), [("image/jpeg", "JPEG"), ("image/png", "PNG")])
def test_an_image_body_is_one_picture_with_its_size(content_type: str, fmt: str) -> None:
    request = parse_request(content_type, encoded(fmt))
    (picture,) = request.images
    assert (picture.content_type, picture.width, picture.height) == (content_type, 40, 30)
    assert request.options == {}


def test_x_image_takes_either_format_by_its_magic_bytes() -> None:
    assert parse_request("application/x-image", encoded("PNG")).images[0].content_type == (
        "image/png"
    )


def test_content_type_parameters_and_case_are_ignored() -> None:
    assert media_type("Image/JPEG; charset=binary") == "image/jpeg"
    assert parse_request("Image/JPEG; q=1", encoded("JPEG")).images


@pytest.mark.parametrize("content_type", [None, "", "image/gif", "text/plain", "image/webp"])
def test_other_content_types_are_415(content_type: str | None) -> None:
    with pytest.raises(UnsupportedMediaType) as caught:
        parse_request(content_type, encoded("JPEG"))
    assert caught.value.status == 415


def test_a_png_sent_as_jpeg_is_refused() -> None:
    with pytest.raises(ServingError, match="not a JPEG"):
        parse_request("image/jpeg", encoded("PNG"))


@pytest.mark.parametrize(
    "body",
    [b"\xff\xd8\xff" + bytes(range(256)) * 4, b"\x89PNG\r\n\x1a\n" + b"\x00" * 50, b"GIF89a"],
)
def test_corrupt_images_are_400_before_any_decode(body: bytes) -> None:
    with pytest.raises(ServingError) as caught:
        parse_request("image/png" if body.startswith(b"\x89") else "image/jpeg", body)
    assert caught.value.status == 400


def test_an_empty_body_is_400() -> None:
    with pytest.raises(ServingError, match="empty"):
        parse_request("image/jpeg", b"")


@pytest.mark.parametrize("side", [10_000, 30_000])  # 100 MP; 900 MP (Pillow's own bomb limit)
def test_a_huge_header_is_refused_without_decoding(side: int) -> None:
    body = png_header_only(side, side)
    assert len(body) < 200  # the refusal rests on the header alone
    with pytest.raises(ServingError, match="MP") as caught:
        parse_request("image/png", body)
    assert caught.value.status == 400


def test_the_pixel_limit_is_configurable() -> None:
    with pytest.raises(ServingError, match="MP"):
        parse_request("image/jpeg", encoded("JPEG", (200, 200)), max_pixels=100 * 100)


def test_json_body_with_one_image_and_options() -> None:
    body = json.dumps(
        {"image": base64.b64encode(encoded("JPEG")).decode(), "conf": 0.5, "imgsz": "320"}
    )
    request = parse_request("application/json", body.encode())
    assert len(request.images) == 1
    assert request.options == {"conf": 0.5, "imgsz": 320}


def test_json_body_accepts_a_data_url_and_a_list_of_images() -> None:
    data = base64.b64encode(encoded("PNG")).decode()
    body = json.dumps({"images": [f"data:image/png;base64,{data}", data], "max_det": 10})
    request = parse_request("application/json", body.encode())
    assert [p.content_type for p in request.images] == ["image/png", "image/png"]
    assert request.options == {"max_det": 10}


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        (b"{not json", "not JSON"),
        (b"[1, 2]", "must be an object"),
        (b"{}", "needs"),
        (b'{"image": 5}', "base64 string"),
        (b'{"image": "***"}', "not valid base64"),
        (b'{"image": "", "images": []}', "either"),
        (json.dumps({"images": ["x"] * (MAX_IMAGES + 1)}).encode(), "at most"),
        (b'{"image": "AAAA", "colour": 1}', "unknown option"),
    ],
)
def test_bad_json_bodies_are_400(payload: bytes, message: str) -> None:
    with pytest.raises(ServingError, match=message):
        parse_request("application/json", payload)


@pytest.mark.parametrize(
    ("name", "raw"),
    [("conf", 1.5), ("conf", "nan"), ("iou", -0.1), ("imgsz", 10), ("imgsz", 1.5),
     ("max_det", 0), ("conf", True), ("conf", None), ("imgsz", "big")],
)  # fmt: skip
def test_options_outside_their_range_are_400(name: str, raw: object) -> None:
    with pytest.raises(ServingError, match=name):
        option_value(name, raw)


def test_custom_attributes_carry_options_for_image_bodies() -> None:
    assert parse_attributes("conf=0.1; imgsz=640") == {"conf": 0.1, "imgsz": 640}
    assert parse_attributes(None) == {}
    request = parse_request("image/jpeg", encoded("JPEG"), attributes="iou=0.5")
    assert request.options == {"iou": 0.5}
    with pytest.raises(ServingError, match="name=value"):
        parse_attributes("conf")


def test_json_keys_win_over_custom_attributes() -> None:
    body = json.dumps({"image": base64.b64encode(encoded("JPEG")).decode(), "conf": 0.7})
    request = parse_request("application/json", body.encode(), attributes="conf=0.1;iou=0.3")
    assert request.options == {"conf": 0.7, "iou": 0.3}


def test_messages_quote_what_the_client_sent_on_one_line() -> None:
    with pytest.raises(ServingError) as caught:
        parse_request("image/x\u001b[31m\nevil", b"x")
    assert "\n" not in str(caught.value) and "\u001b" not in str(caught.value)
