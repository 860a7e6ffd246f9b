"""The JSON answer per task, built from Ultralytics ``Results`` made of known tensors."""

from __future__ import annotations

import base64
import io
import json
import math

import numpy as np
import pytest
import torch
from PIL import Image
from ultralytics.engine.results import Results

from yolo_pipeline.serving.responses import class_names, image_answer

pytestmark = pytest.mark.unit

NAMES = {0: "circle", 1: "square", 2: "triangle"}
IMAGE = np.zeros((60, 80, 3), np.uint8)  # height 60, width 80
BOXES = torch.tensor([[10.0, 5.0, 30.0, 25.0, 0.9, 1.0], [0.5, 1.25, 79.0, 59.0, 0.333333, 2.0]])


def roundtrip(answer: dict[str, object]) -> dict[str, object]:
    """What a client receives: the answer must be plain JSON."""
    loaded: dict[str, object] = json.loads(json.dumps(answer, allow_nan=False))
    return loaded


def png_array(data: str) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(base64.b64decode(data))))


def test_detect_objects_carry_class_name_confidence_and_pixel_box() -> None:
    answer = roundtrip(image_answer(Results(IMAGE, "x.jpg", NAMES, boxes=BOXES), "detect"))
    assert answer["task"] == "detect"
    assert answer["names"] == ["circle", "square", "triangle"]
    assert (answer["width"], answer["height"]) == (80, 60)
    assert answer["objects"] == [
        {"class_id": 1, "name": "square", "confidence": 0.9, "box": [10.0, 5.0, 30.0, 25.0]},
        {"class_id": 2, "name": "triangle", "confidence": 0.33333, "box": [0.5, 1.25, 79.0, 59.0]},
    ]


def test_no_detections_is_an_empty_list() -> None:
    result = Results(IMAGE, "x.jpg", NAMES, boxes=torch.zeros((0, 6)))
    assert image_answer(result, "detect")["objects"] == []


def test_segment_objects_add_their_polygon_in_pixels() -> None:
    masks = torch.zeros((2, 60, 80))
    masks[0, 5:25, 10:30] = 1
    masks[1, 10:20, 40:60] = 1
    result = Results(IMAGE, "x.jpg", NAMES, boxes=BOXES, masks=masks)
    objects = roundtrip(image_answer(result, "segment"))["objects"]
    assert isinstance(objects, list)
    polygon = np.array(objects[0]["polygon"])
    assert polygon.shape[1] == 2 and len(polygon) >= 4
    assert polygon[:, 0].min() >= 9 and polygon[:, 0].max() <= 31
    assert polygon[:, 1].min() >= 4 and polygon[:, 1].max() <= 26


def test_pose_objects_add_keypoints_with_visibility() -> None:
    keypoints = torch.tensor(
        [[[12.0, 6.0, 0.9], [20.0, 10.0, 0.1]], [[1.0, 2.0, 0.5], [3.0, 4.0, 0.6]]]
    )
    result = Results(IMAGE, "x.jpg", NAMES, boxes=BOXES, keypoints=keypoints)
    objects = roundtrip(image_answer(result, "pose"))["objects"]
    assert isinstance(objects, list)
    assert objects[0]["keypoints"] == [[12.0, 6.0, 0.9], [20.0, 10.0, 0.1]]


def test_pose_without_visibility_gives_null() -> None:
    keypoints = torch.tensor([[[12.0, 6.0]], [[1.0, 2.0]]])
    result = Results(IMAGE, "x.jpg", NAMES, boxes=BOXES, keypoints=keypoints)
    objects = image_answer(result, "pose")["objects"]
    assert objects[1]["keypoints"] == [[1.0, 2.0, None]]


def test_obb_objects_add_the_rotated_box_corners_and_bounds() -> None:
    # cx, cy, w, h, angle (radians), conf, cls
    obb = torch.tensor([[40.0, 30.0, 20.0, 10.0, math.pi / 2, 0.8, 0.0]])
    answer = roundtrip(image_answer(Results(IMAGE, "x.jpg", NAMES, obb=obb), "obb"))
    objects = answer["objects"]
    assert isinstance(objects, list) and len(objects) == 1
    item = objects[0]
    assert item["class_id"] == 0 and item["confidence"] == pytest.approx(0.8)
    assert item["rotated_box"] == pytest.approx(
        {"cx": 40.0, "cy": 30.0, "w": 20.0, "h": 10.0, "angle": round(math.pi / 2, 4)}
    )
    assert len(item["corners"]) == 4
    assert item["box"] == pytest.approx([35.0, 20.0, 45.0, 40.0], abs=0.01)  # turned 90 degrees


def test_classify_answers_top5_and_no_objects() -> None:
    names = {i: f"c{i}" for i in range(6)}
    probs = torch.tensor([0.05, 0.4, 0.1, 0.3, 0.1, 0.05])
    answer = roundtrip(image_answer(Results(IMAGE, "x.jpg", names, probs=probs), "classify"))
    assert answer["objects"] == []
    top5 = answer["top5"]
    assert isinstance(top5, list) and len(top5) == 5
    assert top5[:2] == [
        {"class_id": 1, "name": "c1", "confidence": 0.4},
        {"class_id": 3, "name": "c3", "confidence": 0.3},
    ]


def test_semantic_answers_coverage_per_class_and_a_png_of_class_ids() -> None:
    mask = torch.zeros((60, 80), dtype=torch.uint8)
    mask[:30] = 2
    mask[:, :8] = 255  # ignore
    answer = roundtrip(image_answer(Results(IMAGE, "x.jpg", NAMES, semantic_mask=mask), "semantic"))
    ratios = {c["class_id"]: c["pixel_ratio"] for c in answer["classes"]}  # type: ignore[attr-defined]
    assert ratios == pytest.approx({0: 30 * 72 / 4800, 2: 30 * 72 / 4800})
    decoded = png_array(str(answer["mask"]))
    assert decoded.shape == (60, 80) and np.array_equal(decoded, mask.numpy())


def test_depth_answers_statistics_and_a_16_bit_millimetre_png() -> None:
    depth = torch.full((60, 80), 2.5)
    depth[0, 0] = 0.5
    answer = roundtrip(image_answer(Results(IMAGE, "x.jpg", {0: "depth"}, depth=depth), "depth"))
    figures = answer["depth"]
    assert isinstance(figures, dict)
    assert (figures["min"], figures["max"], figures["median"]) == (0.5, 2.5, 2.5)
    decoded = png_array(figures["png"])
    assert decoded.shape == (60, 80) and decoded[0, 0] == 500 and decoded[5, 5] == 2500


def test_class_names_fill_gaps() -> None:
    assert class_names({0: "a", 2: "c"}) == ["a", "class1", "c"]
    assert class_names({}) == []
