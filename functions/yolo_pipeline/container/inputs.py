"""The job's inputs: input/config/hyperparameters.json and the input channels."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

from yolo_pipeline.container.errors import UserError
from yolo_pipeline.container.layout import CHANNEL, Layout
from yolo_pipeline.container.zip_extract import dataset_folder
from yolo_pipeline.dataset.storage.zip_reader import ArchiveError
from yolo_pipeline.training.hyperparameters import check_hyperparameters, decode_hyperparameters

log = logging.getLogger(__name__)


def read_hyperparameters(layout: Layout) -> dict[str, Any]:
    """Typed hyperparameters (none when the file is absent); UserError listing every problem."""
    raw: dict[str, Any] = {}
    if layout.hyperparameters.exists():
        try:
            raw = json.loads(layout.hyperparameters.read_text(encoding="utf-8"))
        except json.JSONDecodeError as exc:
            raise UserError(f"hyperparameters.json is not valid JSON ({exc}).") from exc
        if not isinstance(raw, dict):
            raise UserError("hyperparameters.json must be a JSON object of name: value.")
    values = decode_hyperparameters({str(k): v for k, v in raw.items()})
    findings = check_hyperparameters(values, file="hyperparameters")
    for finding in findings:
        if finding.severity == "warning":
            log.warning("%s", finding)
    problems = [f for f in findings if f.severity == "error"]
    if problems:
        raise UserError("Invalid hyperparameters: " + "; ".join(str(p) for p in problems) + ".")
    return values


def dataset_channel(layout: Layout) -> Path:
    """The dataset folder: the 'dataset' channel itself, or, when it holds one zip, that zip
    unpacked to local disk under the zip reader's rules; a UserError otherwise."""
    if not layout.channel.is_dir():
        raise UserError(
            f"No '{CHANNEL}' input channel: {layout.channel} does not exist. "
            f"Start the job with an InputDataConfig channel named '{CHANNEL}'."
        )
    try:
        return dataset_folder(layout.channel, layout.root / "unzipped-dataset")
    except ArchiveError as exc:
        raise UserError(f"The dataset zip is refused: {exc} ({exc.hint}).") from exc
