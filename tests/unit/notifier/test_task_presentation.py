"""Each task's figures in the Completed email: IoU per class for semantic, no per-class
table for classify and depth, the comparison on the task's headline; the registry keeps
every task's figures."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np

from yolo_pipeline.container.results import build_results, capture_final_validation, fitness
from yolo_pipeline.notifier.email_sections import comparison_lines, per_class_lines
from yolo_pipeline.notifier.job_results import parse_job_results
from yolo_pipeline.notifier.registry import METADATA_METRICS, RegisteredModel, RegistryOutcome


def _trainer(task_metrics: object, metrics: dict[str, float]) -> SimpleNamespace:
    return SimpleNamespace(
        validator=SimpleNamespace(metrics=task_metrics),
        metrics=metrics,
        stopper=SimpleNamespace(best_epoch=2),
    )


def _document(task: str, final: dict[str, object]) -> dict[str, object]:
    return build_results(
        final_validation=final,
        rows=[],
        epochs_requested=3,
        patience=None,
        task=task,
        class_names=["road", "car", "sky"],
        dataset={},
        resumed_after_epoch=None,
        exports=[],
    )


def test_semantic_email_lists_iou_per_class() -> None:
    semantic = SimpleNamespace(  # SemanticMetrics' arrays, as numpy gives them
        names={0: "road", 1: "car", 2: "sky"},
        per_class_iou=np.array([0.9, 0.25, 0.0], dtype=np.float32),
        per_class_pixel_accuracy=np.array([0.95, 0.5, 0.0], dtype=np.float32),
        nt_per_class=np.array([9000, 800, 0]),
        nt_per_image=np.array([4, 3, 0]),
    )
    final = capture_final_validation(
        _trainer(semantic, {"metrics/mIoU": 0.575, "metrics/pixel_acc": 0.93}), "semantic"
    )
    assert final["metrics"] == {"val:mIoU": 0.575, "val:pixel_acc": 0.93}
    results = parse_job_results(_document("semantic", final))
    lines = per_class_lines(results)
    assert lines[0] == "Per class (validation set, best.pt):" and "IoU" in lines[1]
    assert any(line.split()[:5] == ["road", "4", "9000", "0.900", "0.950"] for line in lines)
    assert any(line.split()[:5] == ["car", "3", "800", "0.250", "0.500"] for line in lines)
    assert "No validation pixels, so not measured (1): sky." in lines[-1]


def test_classify_and_depth_have_no_per_class_table() -> None:
    for task, metrics in (
        ("classify", {"metrics/accuracy_top1": 0.8, "metrics/accuracy_top5": 1.0}),
        ("depth", {"metrics/delta1": 0.7, "metrics/abs_rel": 0.2}),
    ):
        final = capture_final_validation(_trainer(SimpleNamespace(), metrics), task)
        assert final["per_class"] == []
        (line,) = per_class_lines(parse_job_results(_document(task, final)))
        assert line.startswith("Per class: none (")


def test_best_pt_fitness_follows_the_task() -> None:
    # Ultralytics: ClassifyMetrics (top1 + top5) / 2, SemanticMetrics mIoU, DepthMetrics delta1
    assert fitness({"metrics/accuracy_top1": 0.6, "metrics/accuracy_top5": 1.0}) == 0.8
    assert fitness({"metrics/mIoU": 0.4, "metrics/pixel_acc": 0.9}) == 0.4
    assert fitness({"metrics/delta1": 0.7, "metrics/abs_rel": 0.1}) == 0.7


def test_comparison_uses_the_task_headline() -> None:
    def previous(task: str, metrics: dict[str, float]) -> RegisteredModel:
        return RegisteredModel(
            arn="arn:pkg/1",
            group="yolo-rooms",
            version=1,
            created=None,
            approval="Approved",
            job_name="yolo-rooms-1",
            trained_at="2026-11-30",
            metrics=metrics,
            task=task,
        )

    registry = RegistryOutcome("yolo-rooms")
    depth = comparison_lines(
        {"val:delta1": 0.70}, "depth", previous("depth", {"val:delta1": 0.75}), registry
    )
    assert depth[-1] == "  delta1 0.750 -> 0.700 (-0.050, worse)"
    top1 = comparison_lines(
        {"val:top1": 0.9}, "classify", previous("classify", {"val:top1": 0.8}), registry
    )
    assert top1[-1] == "  top-1 accuracy 0.800 -> 0.900 (+0.100, better)"


def test_the_registry_keeps_every_task_headline() -> None:
    for name in ("val:top1", "val:top5", "val:mIoU", "val:pixel_acc", "val:delta1", "val:rmse"):
        assert name in METADATA_METRICS
    assert len(METADATA_METRICS) <= 40
