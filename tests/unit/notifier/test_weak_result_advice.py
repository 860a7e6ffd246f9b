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


def test_a_watchdog_stop_is_not_read_as_a_dataset_problem() -> None:
    """The NaN reason tells the user to check the labels: the fix is the watchdog's, not a
    dataset rejection's."""
    from yolo_pipeline.contract import FAILURE_NAN_LOSS, FAILURE_STALL
    from yolo_pipeline.notifier.fixes import likely_fixes

    for reason in (
        f"{FAILURE_NAN_LOSS}. Try a lower lr0, check the labels (boxes and classes), amp: false",
        f"{FAILURE_STALL} 120 minutes (a stuck data loader?)",
    ):
        fixes = likely_fixes("Failed", "Failed", reason, "ml.g4dn.xlarge", spot=False)
        assert not any(f.startswith("Dataset problem") for f in fixes), fixes
        assert any("best.pt and last.pt" in f for f in fixes), fixes
