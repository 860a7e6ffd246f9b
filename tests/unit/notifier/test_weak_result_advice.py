"""A Completed email whose headline is about zero says why that may be and what to try."""

from __future__ import annotations

from yolo_pipeline.notifier.fixes import weak_result_advice


def test_a_near_zero_score_gets_advice() -> None:
    advice = weak_result_advice("Completed", 0.0, {"epochs": "5", "model": "yolo11n.yaml"})
    text = " ".join(advice)
    assert "5 epoch(s)" in text and "pretrained weights" in text and "labels" in text


def test_a_real_score_or_another_status_gets_none() -> None:
    assert weak_result_advice("Completed", 0.61, {"epochs": "50"}) == []
    assert weak_result_advice("Failed", 0.0, {}) == []
    assert weak_result_advice("Completed", None, {}) == []
