"""Local mode's email extras: metrics.json from output/data/, and no registry."""

from __future__ import annotations

import json
from pathlib import Path

from tests.support.helpers import load_event
from tests.support.notifier_world import described_for
from yolo_pipeline.local.stages import LOCAL_REGISTRY_NOTE, local_results
from yolo_pipeline.notifier.emails import render_job_email


def test_local_results_feed_the_same_email(tmp_path: Path) -> None:
    data = tmp_path / "output" / "data"
    data.mkdir(parents=True)
    document = {
        "final": {"val:mAP50-95": 0.8512},
        "best_epoch": 27,
        "epochs_run": 30,
        "epochs_requested": 30,
        "stopped_early": False,
        "per_class": [
            {"class": 0, "name": "square", "instances": 9, "mAP50-95": 0.9},
            {"class": 1, "name": "circle", "instances": 0},
        ],
    }
    (data / "metrics.json").write_text(json.dumps(document), encoding="utf-8")
    results, note = local_results(tmp_path)
    assert results is not None and note == ""
    body = render_job_email(
        load_event("training_completed")["detail"],
        described_for("training_completed"),
        region="us-east-1",
        results=results,
        registry_note=LOCAL_REGISTRY_NOTE,
    ).body
    assert "mAP50-95   0.851" in body and "Best epoch: 27 of 30 run" in body
    assert "square" in body and "(1): circle." in body
    assert "Model registry: none in a local run" in body
    assert "\\n" not in body  # the note spans two real lines, never an escaped break


def test_a_run_without_metrics_json_says_why(tmp_path: Path) -> None:
    results, note = local_results(tmp_path)
    assert results is None and "could not be read (FileNotFoundError)" in note
