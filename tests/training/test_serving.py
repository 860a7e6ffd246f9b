"""The inference server as a real process on tiny models of every task: /ping, /invocations
with JPEG, PNG and JSON bodies answering what Ultralytics' own predict answers, and refusals
(4xx) that leave it serving."""

from __future__ import annotations

import base64
import http.client
import json
import struct
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import cv2
import numpy as np
import pytest

from tests.support.tiny_models import ARCHITECTURES, save_tiny_model
from yolo_pipeline.serving.client import ServerError, invoke, json_body, ping, server_process
from yolo_pipeline.serving.responses import image_answer

pytestmark = pytest.mark.training


def write_images(folder: Path) -> dict[str, Path]:
    """One picture with shapes on it, as JPEG and PNG."""
    image = np.full((120, 160, 3), 90, np.uint8)
    cv2.rectangle(image, (10, 15), (60, 70), (20, 200, 20), -1)
    cv2.circle(image, (115, 60), 28, (200, 40, 40), -1)
    paths = {"jpeg": folder / "shapes.jpg", "png": folder / "shapes.png"}
    for path in paths.values():
        cv2.imwrite(str(path), image)
    return paths


def expected(weights: Path, image: Path, **options: Any) -> dict[str, Any]:
    """Ultralytics' own predict on the file, in the server's answer format."""
    from ultralytics import YOLO

    model = YOLO(str(weights))
    results: Any = model.predict(str(image), verbose=False, **options)
    return image_answer(results[0], str(model.task))


def assert_same_objects(served: dict[str, Any], own: dict[str, Any]) -> None:
    assert served["task"] == own["task"]
    assert served["names"] == own["names"]
    assert len(served["objects"]) == len(own["objects"])
    for mine, theirs in zip(served["objects"], own["objects"], strict=True):
        assert mine["class_id"] == theirs["class_id"]
        assert mine["confidence"] == pytest.approx(theirs["confidence"], abs=1e-4)
        assert mine["box"] == pytest.approx(theirs["box"], abs=0.02)


def raw_post(url: str, body: bytes, content_type: str) -> tuple[int, dict[str, Any]]:
    parts = urlsplit(url)
    connection = http.client.HTTPConnection(str(parts.hostname), parts.port, timeout=60)
    try:
        connection.request("POST", "/invocations", body, {"Content-Type": content_type})
        response = connection.getresponse()
        return response.status, json.loads(response.read())
    finally:
        connection.close()


def huge_png_header(width: int, height: int) -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\0"))


@pytest.fixture(scope="module")
def detect_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path, Path]]:
    folder = tmp_path_factory.mktemp("serve-detect")
    weights = save_tiny_model("detect", folder / "model" / "best.pt")
    with server_process(folder, log_file=folder / "server.log") as url:  # a run folder: model/
        yield url, weights, folder


def test_jpeg_and_png_bodies_answer_what_ultralytics_predicts(
    detect_server: tuple[str, Path, Path],
) -> None:
    url, weights, folder = detect_server
    assert ping(url) == 200
    for kind, path in write_images(folder).items():
        answer = invoke(url, path.read_bytes(), f"image/{kind}")
        (served,) = answer["predictions"]
        own = expected(weights, path)
        assert served["objects"], "the tiny model finds objects"
        assert_same_objects(served, own)
        assert (served["width"], served["height"]) == (160, 120)


def test_json_body_with_options_answers_what_ultralytics_predicts(
    detect_server: tuple[str, Path, Path],
) -> None:
    url, weights, folder = detect_server
    path = write_images(folder)["png"]
    options = {"conf": 0.6, "imgsz": 96, "max_det": 7}
    answer = invoke(url, json_body([path.read_bytes()] * 2, options), "application/json")
    assert len(answer["predictions"]) == 2
    own = expected(weights, path, **options)
    assert 0 < len(own["objects"]) <= 7
    for served in answer["predictions"]:
        assert_same_objects(served, own)
        assert all(o["confidence"] >= 0.6 for o in served["objects"])


def test_refusals_are_clean_4xx_and_the_server_keeps_serving(
    detect_server: tuple[str, Path, Path],
) -> None:
    url, _weights, folder = detect_server
    jpeg = write_images(folder)["jpeg"].read_bytes()
    cases = {
        "corrupt": (b"\xff\xd8\xff\xe0" + bytes(range(256)) * 40, "image/jpeg", 400),
        "100 MP": (huge_png_header(10_000, 10_000), "image/png", 400),
        "content type": (jpeg, "image/gif", 415),
        "50 MB": (b"\xff\xd8\xff" + b"\0" * (50 * 1024 * 1024), "image/jpeg", 413),
        "truncated": (jpeg[: len(jpeg) // 3], "image/jpeg", 400),
    }
    for name, (body, content_type, status) in cases.items():
        got, answer = raw_post(url, body, content_type)
        assert (name, got) == (name, status), answer
        assert answer["error"]
        assert ping(url) == 200, name
    assert invoke(url, jpeg, "image/jpeg")["predictions"][0]["objects"]


@pytest.mark.parametrize("task", sorted(set(ARCHITECTURES) - {"detect"}))
def test_every_task_is_served_as_ultralytics_predicts_it(tmp_path: Path, task: str) -> None:
    weights = save_tiny_model(task, tmp_path / "best.pt")
    image = write_images(tmp_path)["jpeg"]
    # OBB keeps its untrained head (confidences ~1e-4); max_det keeps the answers short.
    options: dict[str, float] = {"conf": 1e-4, "max_det": 20} if task == "obb" else {"max_det": 20}
    own = expected(weights, image, **options)
    with server_process(weights, log_file=tmp_path / "server.log") as url:
        body = json.dumps({"image": base64.b64encode(image.read_bytes()).decode(), **options})
        (served,) = invoke(url, body.encode(), "application/json")["predictions"]
    assert_same_objects(served, own)
    for key in ("top5", "classes", "mask", "depth"):
        assert served.get(key) == own.get(key), key
    if task in ("segment", "pose", "obb"):
        assert served["objects"]
        extra = {"segment": "polygon", "pose": "keypoints", "obb": "rotated_box"}[task]
        assert all(extra in o for o in served["objects"])


def test_a_model_that_cannot_load_fails_ping_and_stops_the_start(tmp_path: Path) -> None:
    (tmp_path / "best.pt").write_bytes(b"not a checkpoint")
    with pytest.raises(ServerError, match="healthy"), server_process(tmp_path, timeout=120):
        pass
