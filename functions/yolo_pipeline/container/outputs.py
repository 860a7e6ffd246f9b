"""What a job leaves behind: model/ (weights, run files, exports, metrics.json) on success,
output/failure (SageMaker's FailureReason) on any error."""

from __future__ import annotations

import contextlib
import csv
import json
import logging
import shutil
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from yolo_pipeline.container import results as results_file
from yolo_pipeline.container.dataset_scan import DatasetScan
from yolo_pipeline.container.errors import Terminated, UserError
from yolo_pipeline.container.layout import Layout
from yolo_pipeline.container.trainer import TrainOutcome
from yolo_pipeline.contract import METRICS_JSON
from yolo_pipeline.dataset.data_yaml import DataYaml
from yolo_pipeline.training.hyperparameters import parse_export

log = logging.getLogger(__name__)

FAILURE_MAX_CHARS = 1024  # SageMaker keeps this much of output/failure as FailureReason
RUN_FILE_SUFFIXES = {".csv", ".yaml", ".png", ".jpg", ".json"}  # results, args, plots


def read_results(run_dir: Path) -> list[dict[str, float]]:
    """results.csv as rows of floats (non-numeric cells left out); [] when absent."""
    path = run_dir / "results.csv"
    if not path.exists():
        return []
    with path.open(newline="", encoding="utf-8") as f:
        rows = []
        for row in csv.DictReader(f):
            parsed: dict[str, float] = {}
            for key, value in row.items():
                with contextlib.suppress(TypeError, ValueError):
                    parsed[key.strip()] = float(value)
            rows.append(parsed)
    return rows


def export_models(best: Path, formats: Sequence[str], imgsz: Any, out: Path) -> list[str]:
    """Export best.pt to each format into ``out``; the names written there."""
    from ultralytics import YOLO  # after safe loading is on (entry.run)

    written = []
    for fmt in formats:
        log.info("Exporting %s to %s", best.name, fmt)
        exported = Path(str(YOLO(str(best)).export(format=fmt, imgsz=imgsz, device="cpu")))
        target = out / f"best{exported.suffix}" if exported.is_file() else out / exported.name
        if exported.is_dir():
            shutil.copytree(exported, target, dirs_exist_ok=True)
        else:
            shutil.copy2(exported, target)
        written.append(target.name)
    return written


def _copy_run(run_dir: Path, out: Path) -> Path:
    """best.pt, last.pt and the run's files into ``out``; the checkpoint to export from."""
    weights = run_dir / "weights"
    best = weights / "best.pt" if (weights / "best.pt").exists() else weights / "last.pt"
    if not best.exists():
        raise RuntimeError(f"training ended without a checkpoint in {weights}")
    shutil.copy2(best, out / "best.pt")
    if (weights / "last.pt").exists():
        shutil.copy2(weights / "last.pt", out / "last.pt")  # final_eval stripped the optimizer
    for item in sorted(run_dir.iterdir()):
        if item.is_file() and item.suffix.lower() in RUN_FILE_SUFFIXES:
            shutil.copy2(item, out / item.name)
    return best


def package(
    layout: Layout,
    values: Mapping[str, Any],
    outcome: TrainOutcome,
    config: DataYaml,
    scan: DatasetScan,
) -> dict[str, Any]:
    """Fill model/ and return the metrics.json content."""
    out = layout.model
    out.mkdir(parents=True, exist_ok=True)
    best = _copy_run(layout.run_dir, out)
    rows = read_results(layout.run_dir)
    exports = export_models(best, parse_export(values.get("export")), values.get("imgsz", 640), out)
    patience = values.get("patience", 100)
    metrics = results_file.build_results(
        final_validation=outcome.final_validation,
        rows=rows,
        epochs_requested=int(values.get("epochs", 100)),
        patience=int(patience) if isinstance(patience, int | float) else None,
        task=str(values.get("task") or "detect"),
        class_names=list(config.names),
        dataset=scan.as_dict(),
        resumed_after_epoch=outcome.resumed_from_epoch,
        exports=exports,
    )
    # In model/ and in output/data/, which SageMaker uploads as output.tar.gz next to the
    # model: the notifier reads that small archive, never the model.
    document = json.dumps(metrics, indent=2)
    (out / METRICS_JSON).write_text(document, encoding="utf-8")
    output_data = layout.root / "output" / "data"
    output_data.mkdir(parents=True, exist_ok=True)
    (output_data / METRICS_JSON).write_text(document, encoding="utf-8")
    return metrics


def failure_paragraph(exc: BaseException) -> str:
    """One paragraph, the most useful part first, within SageMaker's 1,024 characters."""
    if isinstance(exc, UserError):
        text = str(exc)
    elif isinstance(exc, Terminated):
        text = (
            "Training was stopped (SIGTERM: a stop request or a spot interruption). "
            "The last finished epoch is kept in the checkpoints and a restart resumes from it."
        )
    else:
        text = f"Training failed: {type(exc).__name__}: {exc}. See the job's CloudWatch log."
    text = " ".join(text.split())
    return text if len(text) <= FAILURE_MAX_CHARS else text[: FAILURE_MAX_CHARS - 3] + "..."


def write_failure(layout: Layout, exc: BaseException) -> None:
    """output/failure for ``exc``; never raises (it runs while another error is handled)."""
    with contextlib.suppress(OSError):
        layout.failure.parent.mkdir(parents=True, exist_ok=True)
        layout.failure.write_text(failure_paragraph(exc), encoding="utf-8")
