"""The Completed email's extras: per-class table, best epoch, comparison, registry.

Golden files: ``UPDATE_GOLDEN=1 pytest tests/unit/notifier/test_completed_email.py``, then read the
diff as a user would.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from tests.support.helpers import load_event
from tests.support.hostile import as_text
from tests.support.notifier_world import described_for
from yolo_pipeline.aws.email import Email
from yolo_pipeline.notifier.email_sections import ALL_CLASSES_MAX, WORST_AND_BEST
from yolo_pipeline.notifier.emails import render_job_email
from yolo_pipeline.notifier.job_results import JobResults, parse_job_results
from yolo_pipeline.notifier.registry import RegisteredModel, RegistryOutcome

GOLDEN = Path(__file__).parent / "golden"
ARN = "arn:aws:sagemaker:us-east-1:123456789012:model-package/yolo-pets/{}"


def results(n_classes: int, *, absent: tuple[int, ...] = (), early: bool = False) -> JobResults:
    """A metrics.json document as train.py writes it, parsed as the notifier does."""
    per_class = []
    for i in range(n_classes):
        measured = i not in absent
        figure = round(0.30 + 0.6 * i / max(n_classes - 1, 1), 4) if measured else None
        per_class.append(
            {
                "class": i,
                "name": f"class-{i:02d}" if n_classes > 3 else ("cat", "dog", "hamster")[i],
                "images": 12 + i if measured else 0,
                "instances": 20 + 3 * i if measured else 0,
                "precision": None if figure is None else round(figure + 0.1, 4),
                "recall": None if figure is None else round(figure + 0.05, 4),
                "mAP50": None if figure is None else round(figure + 0.2, 4),
                "mAP50-95": figure,
            }
        )
    parsed = parse_job_results(
        {
            "version": 1,
            "task": "detect",
            "final": {"val:mAP50-95": 0.6321, "val:mAP50": 0.8613, "val:precision": 0.8112,
                      "val:recall": 0.7455},
            "final_source": "best.pt final validation",
            "best_epoch": 23 if early else 41,
            "epochs_run": 48 if early else 50,
            "epochs_requested": 50,
            "stopped_early": early,
            "patience": 25,
            "per_class": per_class,
            "dataset": {"images": {"train": 400, "val": 80}},
        }
    )  # fmt: skip
    assert parsed is not None
    return parsed


def package(version: int, job: str, figure: float, when: str) -> RegisteredModel:
    return RegisteredModel(
        arn=ARN.format(version),
        group="yolo-pets",
        version=version,
        created=datetime(2026, 3, 1, 9, 30, tzinfo=UTC),
        approval="PendingManualApproval",
        job_name=job,
        trained_at=when,
        metrics={"val:mAP50-95": figure},
    )


def render(**extras: Any) -> Email:
    return render_job_email(
        load_event("training_completed")["detail"],
        described_for("training_completed"),
        region="us-east-1",
        **extras,
    )


FIRST = RegistryOutcome(
    "yolo-pets", package(1, "yolo-pets-3f9a1c2e", 0.6321, "2026-03-14 11:05 UTC"), None, True
)
LATER = RegistryOutcome(
    "yolo-pets",
    package(3, "yolo-pets-3f9a1c2e", 0.6321, "2026-03-14 11:05 UTC"),
    package(2, "yolo-pets-0b7d99e1a4", 0.6577, "2026-03-02 17:40 UTC"),
    True,
)


@pytest.mark.parametrize(
    ("golden", "extras"),
    [
        ("job_email_completed_first.txt", {"results": results(3, absent=(2,)), "registry": FIRST}),
        (
            "job_email_completed_many_classes.txt",
            {"results": results(20, absent=(7,), early=True), "registry": LATER},
        ),
        (
            "job_email_completed_degraded.txt",
            {
                "results": None,
                "results_note": "s3://yolo-datasets-123456789012/models/yolo-pets-3f9a1c2e/"
                "output/output.tar.gz could not be read (NoSuchKey)",
                "registry": RegistryOutcome(
                    "yolo-pets", error="ThrottlingException: Rate exceeded"
                ),
            },
        ),
    ],
)
def test_golden(golden: str, extras: dict[str, Any]) -> None:
    text = as_text(render(**extras))
    path = GOLDEN / golden
    if os.environ.get("UPDATE_GOLDEN"):
        path.write_text(text, encoding="utf-8")
    assert text == path.read_text(encoding="utf-8")


def test_few_classes_are_all_listed_with_instance_counts() -> None:
    body = render(results=results(ALL_CLASSES_MAX)).body
    for i in range(ALL_CLASSES_MAX):
        assert f"class-{i:02d}" in body
    assert "Worst:" not in body


def test_many_classes_show_the_worst_and_the_best() -> None:
    body = render(results=results(20)).body
    assert "the 5 worst and the 5 best by mAP50-95" in body
    listed = [i for i in range(20) if f"class-{i:02d}" in body]
    assert listed == [*range(WORST_AND_BEST), *range(20 - WORST_AND_BEST, 20)]
    worst, best = body.split("  Worst:")[1].split("  Best:")
    assert worst.index("class-00") < worst.index("class-04")  # lowest first
    assert best.index("class-19") < best.index("class-15")  # highest first


def test_a_class_without_validation_instances_is_called_out_not_ranked() -> None:
    body = render(results=results(20, absent=(0,))).body
    assert "No validation instances, so not measured (1): class-00." in body
    assert "  class-00 " not in body  # not in the table, not "worst"
    assert "class-01" in body.split("  Worst:")[1]


def test_first_versus_later_job() -> None:
    first = render(results=results(3), registry=FIRST).body
    assert "Previous model of this dataset: none; this is the first one registered." in first
    later = render(results=results(3), registry=LATER).body
    assert "previous model of this dataset, yolo-pets-0b7d99e1a4 (2026-03-02 17:40 UTC)" in later
    assert "mAP50-95 0.658 -> 0.632 (-0.026, worse)" in later


def test_best_epoch_and_early_stop() -> None:
    body = render(results=results(3, early=True)).body
    assert "Best epoch: 23 of 48 run" in body
    assert "Stopped early: no improvement for 25 epochs (EarlyStopping), after 48 of 50" in body
    assert "Training ran every planned epoch" in render(results=results(3)).body


def test_best_epoch_from_the_final_metric_line_alone() -> None:
    described = described_for("training_completed")
    described["FinalMetricDataList"].append(
        {"MetricName": "best_epoch", "Value": 37.0, "Timestamp": datetime.now(UTC)}
    )
    body = render_job_email(
        load_event("training_completed")["detail"], described, region="us-east-1"
    ).body
    assert "Best epoch: 37 of 50 run" in body


def test_local_runs_say_there_is_no_registry() -> None:
    body = render(results=results(3), registry_note="none in a local run").body
    assert "Model registry: none in a local run." in body


def test_odd_results_documents_are_tolerated() -> None:
    assert parse_job_results([1, 2]) is None
    odd = parse_job_results(
        {"final": {"val:mAP50-95": "high", "val:mAP50": float("nan")}, "per_class": [None, {}]}
    )
    assert odd is not None and odd.final == {} and len(odd.per_class) == 1
    assert "Per class" in render(results=odd).body


def test_a_segment_model_is_compared_on_mask_map_and_only_with_a_segment_model() -> None:
    from yolo_pipeline.notifier.email_sections import comparison_lines
    from yolo_pipeline.notifier.registry import RegisteredModel, RegistryOutcome

    def previous(task: str) -> RegisteredModel:
        return RegisteredModel(
            arn="arn:pkg/1",
            group="yolo-shapes",
            version=1,
            created=None,
            approval="PendingManualApproval",
            job_name="yolo-shapes-1",
            trained_at="2026-11-30",
            metrics={"val:mAP50-95": 0.9, "val:mask_mAP50-95": 0.40},
            task=task,
        )

    registry = RegistryOutcome("yolo-shapes")
    now = {"val:mAP50-95": 0.5, "val:mask_mAP50-95": 0.45}
    lines = comparison_lines(now, "segment", previous("segment"), registry)
    assert lines[-1] == "  mask mAP50-95 0.400 -> 0.450 (+0.050, better)"
    other = comparison_lines(now, "segment", previous("detect"), registry)
    assert "not comparable (that model was trained for detect)" in other[-1]
