"""metrics.json from a REAL Ultralytics trainer: a 2-epoch CPU run (about 10 s) on the
generated shapes sample, with a fourth class in data.yaml that no image holds."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from yolo_pipeline.container.results import (
    FINAL_SOURCE_CSV,
    FINAL_SOURCE_VALIDATION,
    best_row,
    build_results,
    capture_final_validation,
    final_metric_values,
    per_class_results,
    stopped_early,
)
from yolo_pipeline.dataset.sample import CPU_TRAIN_ARGS, make_shapes_dataset
from yolo_pipeline.training.metric_line import format_metric_line, parse_metric_lines

NAMES = ["square", "circle", "triangle", "hexagon"]  # no image holds a hexagon


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """A real trainer after ``final_eval``, captured the way train.py's callback does."""
    from ultralytics import YOLO

    root = tmp_path_factory.mktemp("shapes")
    make_shapes_dataset(root, n_train=16, n_val=8)
    data = yaml.safe_load((root / "data.yaml").read_text(encoding="utf-8"))
    data.update(path=str(root), nc=len(NAMES), names=NAMES)
    (root / "data4.yaml").write_text(yaml.safe_dump(data), encoding="utf-8")
    model = YOLO(CPU_TRAIN_ARGS["model"])
    seen: dict[str, Any] = {"epochs": 0}

    def on_train_epoch_end(_trainer: Any) -> None:
        seen["epochs"] += 1
        seen["pending"] = True

    def on_fit_epoch_end(trainer: Any) -> None:
        if seen.pop("pending", False):
            return
        seen["final"] = capture_final_validation(trainer)  # final_eval: best.pt validated
        seen["validator_means"] = trainer.validator.metrics.mean_results()
        seen["trainer_metrics"] = dict(trainer.metrics)

    model.add_callback("on_train_epoch_end", on_train_epoch_end)
    model.add_callback("on_fit_epoch_end", on_fit_epoch_end)
    model.train(
        **{**CPU_TRAIN_ARGS, "workers": 0, "verbose": False},
        data=str(root / "data4.yaml"),
        epochs=2,
        device="cpu",
        project=str(tmp_path_factory.mktemp("runs")),
        name="run",
    )
    seen["trainer"] = model.trainer
    return seen


def test_final_validation_is_ultralytics_best_pt_validation(trained: dict[str, Any]) -> None:
    final = trained["final"]
    ours = final["metrics"]
    theirs = trained["trainer_metrics"]
    assert ours["val:mAP50-95"] == pytest.approx(theirs["metrics/mAP50-95(B)"])
    assert ours["val:mAP50"] == pytest.approx(theirs["metrics/mAP50(B)"])
    assert [ours[k] for k in ("val:precision", "val:recall", "val:mAP50", "val:mAP50-95")] == (
        pytest.approx([float(v) for v in trained["validator_means"]])
    )
    assert final["best_epoch"] == trained["trainer"].stopper.best_epoch
    assert 1 <= final["best_epoch"] <= 2


def test_per_class_rows_follow_data_yaml_with_instance_counts(trained: dict[str, Any]) -> None:
    rows = trained["final"]["per_class"]
    assert [r["name"] for r in rows] == NAMES
    det_metrics = trained["trainer"].validator.metrics
    assert [r["instances"] for r in rows] == [int(n) for n in det_metrics.nt_per_class]
    measured = [r for r in rows if r["instances"]]
    assert {r["class"] for r in measured} == {int(c) for c in det_metrics.ap_class_index}
    for row in measured:
        assert all(isinstance(row[k], float) for k in ("precision", "recall", "mAP50", "mAP50-95"))
    hexagon = rows[3]
    assert hexagon["instances"] == 0 and hexagon["images"] == 0
    assert hexagon["mAP50-95"] is None  # not measured, which is not 0.0


def test_metrics_json_document(trained: dict[str, Any]) -> None:
    rows = [{"epoch": 1.0, "metrics/mAP50-95(B)": 0.1}, {"epoch": 2.0, "metrics/mAP50-95(B)": 0.0}]
    document = build_results(
        final_validation=trained["final"],
        rows=rows,
        epochs_requested=2,
        patience=100,
        task="detect",
        class_names=NAMES,
        dataset={"images": {"train": 16, "val": 8}},
        resumed_after_epoch=None,
        exports=[],
    )
    assert json.loads(json.dumps(document)) == document  # plain JSON
    assert document["final"] == trained["final"]["metrics"]
    assert document["final_source"] == FINAL_SOURCE_VALIDATION
    assert document["epochs_run"] == 2 and document["stopped_early"] is False
    assert document["task"] == "detect" and len(document["per_class"]) == len(NAMES)
    line = format_metric_line(document["epochs_run"], final_metric_values(document))
    [parsed] = parse_metric_lines(line)
    assert parsed["best_epoch"] == document["best_epoch"]
    assert parsed["val:mAP50-95"] == pytest.approx(document["final"]["val:mAP50-95"], abs=1e-6)


def test_without_a_final_validation_the_best_csv_row_stands_in() -> None:
    rows = [
        {"epoch": 1.0, "metrics/mAP50(B)": 0.5, "metrics/mAP50-95(B)": 0.30},
        {"epoch": 2.0, "metrics/mAP50(B)": 0.6, "metrics/mAP50-95(B)": 0.40},
        {"epoch": 3.0, "metrics/mAP50(B)": 0.6, "metrics/mAP50-95(B)": 0.40},  # a tie: first
    ]
    document = build_results(
        final_validation=None,
        rows=rows,
        epochs_requested=10,
        patience=1,
        task="detect",
        class_names=["a"],
        dataset={},
        resumed_after_epoch=None,
        exports=[],
    )
    assert document["best_epoch"] == 2
    assert document["final"] == {"val:mAP50": 0.6, "val:mAP50-95": 0.40}
    assert document["final_source"] == FINAL_SOURCE_CSV
    assert document["per_class"] == []
    assert document["stopped_early"] is True
    assert best_row([]) == {}


@pytest.mark.parametrize(
    ("run", "requested", "early"), [(30, 30, False), (12, 30, True), (0, 30, False)]
)
def test_stopped_early(run: int, requested: int, early: bool) -> None:
    assert stopped_early(run, requested) is early


def test_segment_rows_carry_mask_figures() -> None:
    class Seg:  # SegmentMetrics' shape: box four then mask four per measured class
        nt_per_class = (3, 0)
        nt_per_image = (2, 0)
        ap_class_index = (0,)

        @staticmethod
        def class_result(i: int) -> tuple[float, ...]:
            return (0.9, 0.8, 0.7, 0.6, 0.5, 0.4, 0.3, 0.2)

    rows = per_class_results(Seg(), {0: "cat", 1: "dog"}, task="segment")
    assert rows[0]["mask_mAP50-95"] == 0.2 and rows[0]["mAP50-95"] == 0.6
    assert rows[1]["mask_precision"] is None and rows[1]["instances"] == 0


def test_the_results_module_is_pure() -> None:
    source = Path(__file__).parents[2] / "functions/yolo_pipeline/container/results.py"
    text = source.read_text(encoding="utf-8")
    assert "import ultralytics" not in text and "open(" not in text
