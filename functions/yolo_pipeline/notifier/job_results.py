"""The job's results file (metrics.json) as the notifier reads it: from SageMaker's small
``output.tar.gz`` (never the model archive), bounded and without extracting to disk.

``fetch_job_results`` never raises for a missing, oversized or unreadable archive: it
returns ``None`` and a note, and the email falls back to DescribeTrainingJob's figures
(see docs/architecture.md, "Completed email"). ``parse_job_results`` is tolerant of any
JSON shape: what it cannot read is left out, never guessed.
"""

from __future__ import annotations

import io
import json
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from yolo_pipeline.aws.errors import error_code
from yolo_pipeline.contract import METRICS_JSON, OUTPUT_ARCHIVE
from yolo_pipeline.errors import PipelineError
from yolo_pipeline.training.tar_reader import TarReader, TarRefused

MAX_ARCHIVE_BYTES = 8 * 1024 * 1024  # output/data holds metrics.json (and failure): KBs
# metrics.json of the largest dataset we accept: 10,000 classes whose names fill data.yaml's
# 1 MiB with characters JSON writes as \u001c (six bytes each), in class_names, per_class
# and the dataset's counts, plus the figures: about 21 MiB. Parsed, that needs ~40 MiB of
# the notifier's 256 MB (measured in the notifier tests).
MAX_METRICS_BYTES = 32 * 1024 * 1024
MAX_MEMBERS = 64  # headers read before giving up on finding metrics.json
MAX_SKIPPED_BYTES = 32 * 1024 * 1024  # decompressed bytes skipped (a gzip bomb stops here)


class ResultsUnavailable(PipelineError):
    """The archive holds no readable metrics.json; the message says why, for the email."""


@dataclass(frozen=True)
class ClassFigures:
    index: int
    name: str
    instances: int | None
    images: int | None
    precision: float | None
    recall: float | None
    map50: float | None
    map50_95: float | None
    iou: float | None = None  # semantic segmentation: IoU and pixel accuracy per class
    pixel_acc: float | None = None


@dataclass(frozen=True)
class JobResults:
    final: dict[str, float] = field(default_factory=dict)
    best_epoch: int | None = None
    epochs_run: int | None = None
    epochs_requested: int | None = None
    stopped_early: bool | None = None
    patience: int | None = None
    task: str = ""
    source: str = ""
    per_class: tuple[ClassFigures, ...] = ()
    images: dict[str, int] = field(default_factory=dict)


def _float(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value) if math.isfinite(value) else None


def _int(value: Any) -> int | None:
    number = _float(value)
    return int(number) if number is not None and number >= 0 else None


def _class(row: Any, position: int) -> ClassFigures | None:
    if not isinstance(row, Mapping):
        return None
    index = _int(row.get("class"))
    return ClassFigures(
        index=position if index is None else index,
        name=str(row.get("name") or f"class {position}")[:100],
        instances=_int(row.get("instances", row.get("pixels"))),  # semantic: pixels
        images=_int(row.get("images")),
        precision=_float(row.get("precision")),
        recall=_float(row.get("recall")),
        map50=_float(row.get("mAP50")),
        map50_95=_float(row.get("mAP50-95")),
        iou=_float(row.get("IoU")),
        pixel_acc=_float(row.get("pixel_acc")),
    )


def parse_job_results(document: Any) -> JobResults | None:
    """A metrics.json document (as parsed JSON) -> :class:`JobResults`; ``None`` if not an
    object. Unknown keys are ignored, odd values dropped."""
    if not isinstance(document, Mapping):
        return None
    final_raw = document.get("final")
    final = {
        str(k): v
        for k, v in (final_raw.items() if isinstance(final_raw, Mapping) else [])
        if _float(v) is not None
    }
    rows = document.get("per_class")
    per_class = [_class(row, i) for i, row in enumerate(rows if isinstance(rows, list) else [])]
    dataset = document.get("dataset")
    images = dataset.get("images") if isinstance(dataset, Mapping) else None
    early = document.get("stopped_early")
    return JobResults(
        final={k: float(v) for k, v in final.items()},
        best_epoch=_int(document.get("best_epoch")) or None,
        epochs_run=_int(document.get("epochs_run")),
        epochs_requested=_int(document.get("epochs_requested")),
        stopped_early=early if isinstance(early, bool) else None,
        patience=_int(document.get("patience")),
        task=str(document.get("task") or "")[:20],
        source=str(document.get("final_source") or "")[:60],
        per_class=tuple(c for c in per_class if c is not None),
        images={
            str(k): int(v)
            for k, v in (images.items() if isinstance(images, Mapping) else [])
            if _int(v) is not None
        },
    )


def metrics_json_from_archive(data: bytes) -> bytes:
    """metrics.json's bytes from a .tar.gz, read in memory: only a regular file of that
    name (``./metrics.json`` too), bounded; nothing is written anywhere. The headers are
    parsed by hand (training/tar_reader.py): an oversized PAX or GNU long-name header is
    refused before its body is read, so memory stays within the notifier's."""
    skipped = 0
    reader = TarReader(io.BytesIO(data))
    try:
        for count, member in enumerate(reader.members(), start=1):
            if member.name == METRICS_JSON and member.kind == "file":
                if member.size > MAX_METRICS_BYTES:
                    raise ResultsUnavailable(f"{METRICS_JSON} is over {MAX_METRICS_BYTES} bytes")
                return reader.read(member, MAX_METRICS_BYTES)
            skipped += member.size
            if count >= MAX_MEMBERS or skipped > MAX_SKIPPED_BYTES:
                break
    except TarRefused as exc:
        raise ResultsUnavailable(f"{OUTPUT_ARCHIVE} is not read: {exc}") from exc
    raise ResultsUnavailable(f"{OUTPUT_ARCHIVE} holds no {METRICS_JSON}")


def output_archive_uri(job: Mapping[str, Any]) -> str:
    """``<S3OutputPath>/<job>/output/output.tar.gz`` (SageMaker's layout), else next to the
    model archive; empty when neither is known."""
    name = str(job.get("TrainingJobName") or "")
    output = job.get("OutputDataConfig")
    path = output.get("S3OutputPath") if isinstance(output, Mapping) else None
    if isinstance(path, str) and path.startswith("s3://") and name:
        return f"{path.rstrip('/')}/{name}/output/{OUTPUT_ARCHIVE}"
    artefacts = job.get("ModelArtifacts")
    model = artefacts.get("S3ModelArtifacts") if isinstance(artefacts, Mapping) else None
    if isinstance(model, str) and model.startswith("s3://") and "/" in model:
        return f"{model.rsplit('/', 1)[0]}/{OUTPUT_ARCHIVE}"
    return ""


def split_s3_uri(uri: str) -> tuple[str, str]:
    bucket, _, key = uri.removeprefix("s3://").partition("/")
    return bucket, key


def fetch_job_results(s3: Any, uri: str) -> tuple[JobResults | None, str]:
    """(results, note): the note says in one line why there are none, for the email."""
    if not uri:
        return None, "the job's output location is not known"
    bucket, key = split_s3_uri(uri)
    try:
        head = s3.head_object(Bucket=bucket, Key=key)
        if int(head.get("ContentLength", 0)) > MAX_ARCHIVE_BYTES:
            return None, f"{uri} is over {MAX_ARCHIVE_BYTES // (1024 * 1024)} MiB: not read"
        body = s3.get_object(Bucket=bucket, Key=key)["Body"]
        data = body.read(MAX_ARCHIVE_BYTES + 1)
    except ClientError as exc:
        code = error_code(exc)
        return None, f"{uri} could not be read ({code or 'error'})"
    except BotoCoreError as exc:
        return None, f"{uri} could not be read ({type(exc).__name__})"
    if len(data) > MAX_ARCHIVE_BYTES:
        return None, f"{uri} is over {MAX_ARCHIVE_BYTES // (1024 * 1024)} MiB: not read"
    try:
        document = json.loads(metrics_json_from_archive(data))
    except ResultsUnavailable as exc:
        return None, str(exc)
    except ValueError as exc:
        return None, f"{METRICS_JSON} is not valid JSON ({exc})"[:200]
    results = parse_job_results(document)
    return (results, "") if results else (None, f"{METRICS_JSON} is not a JSON object")
