"""Reading metrics.json out of output.tar.gz: in memory, bounded, regular files only."""

from __future__ import annotations

import gzip
import io
import json
import tarfile
import tracemalloc
from types import SimpleNamespace
from typing import Any

import pytest

from yolo_pipeline.container.results import build_results, per_class_results
from yolo_pipeline.notifier import job_results
from yolo_pipeline.notifier.job_results import (
    ResultsUnavailable,
    metrics_json_from_archive,
    output_archive_uri,
    parse_job_results,
)


def archive(*members: tuple[tarfile.TarInfo, bytes]) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        for info, data in members:
            info.size = len(data) if info.isreg() else 0
            tar.addfile(info, io.BytesIO(data) if info.isreg() else None)
    return buffer.getvalue()


def regular(name: str, data: bytes) -> tuple[tarfile.TarInfo, bytes]:
    return tarfile.TarInfo(name), data


def test_metrics_json_is_read_in_memory() -> None:
    data = archive(regular("failure", b"x"), regular("./metrics.json", b'{"final": {}}'))
    assert json.loads(metrics_json_from_archive(data)) == {"final": {}}


@pytest.mark.parametrize(
    ("members", "why"),
    [
        ([regular("other.json", b"{}")], "holds no metrics.json"),
        ([regular("../metrics.json", b"{}")], "holds no metrics.json"),  # never a path outside
        ([regular("sub/metrics.json", b"{}")], "holds no metrics.json"),
    ],
    ids=["absent", "traversal", "nested"],
)
def test_only_a_top_level_metrics_json_counts(
    members: list[tuple[tarfile.TarInfo, bytes]], why: str
) -> None:
    with pytest.raises(ResultsUnavailable, match=why):
        metrics_json_from_archive(archive(*members))


def test_a_link_named_metrics_json_is_not_followed() -> None:
    link = tarfile.TarInfo("metrics.json")
    link.type, link.linkname = tarfile.SYMTYPE, "/etc/passwd"
    with pytest.raises(ResultsUnavailable, match=r"holds no metrics\.json"):
        metrics_json_from_archive(archive((link, b"")))


def test_oversized_metrics_json_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(job_results, "MAX_METRICS_BYTES", 10)
    with pytest.raises(ResultsUnavailable, match="over 10 bytes"):
        metrics_json_from_archive(archive(regular("metrics.json", b"{" + b" " * 20 + b"}")))


def test_too_many_members_before_metrics_json_stops(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(job_results, "MAX_MEMBERS", 3)
    members = [regular(f"f{i}", b"x") for i in range(5)] + [regular("metrics.json", b"{}")]
    with pytest.raises(ResultsUnavailable, match=r"holds no metrics\.json"):
        metrics_json_from_archive(archive(*members))


@pytest.mark.parametrize("data", [b"", b"not gzip", gzip.compress(b"not a tar" * 100)])
def test_garbage_is_reported_not_raised(data: bytes) -> None:
    with pytest.raises(ResultsUnavailable):
        metrics_json_from_archive(data)


@pytest.mark.parametrize(
    ("job", "uri"),
    [
        (
            {"TrainingJobName": "yolo-a-1", "OutputDataConfig": {"S3OutputPath": "s3://b/models/"}},
            "s3://b/models/yolo-a-1/output/output.tar.gz",
        ),
        (
            {"ModelArtifacts": {"S3ModelArtifacts": "s3://b/m/yolo-a-1/output/model.tar.gz"}},
            "s3://b/m/yolo-a-1/output/output.tar.gz",
        ),
        ({"TrainingJobName": "yolo-a-1"}, ""),
    ],
)
def test_output_archive_uri(job: dict[str, Any], uri: str) -> None:
    assert output_archive_uri(job) == uri


def test_the_largest_accepted_dataset_keeps_its_figures_within_memory() -> None:
    """10,000 classes whose names fill data.yaml's 1 MiB with separators JSON escapes
    six-fold: metrics.json as the container writes it is read, and parsed within memory."""
    classes = 10_000
    names = [f"{i}" + "\x1c" * (100 - len(str(i))) for i in range(classes)]  # 1 MB of names
    fake = SimpleNamespace(
        nt_per_class=[7] * classes,
        nt_per_image=[3] * classes,
        ap_class_index=list(range(classes)),
        class_result=lambda i: (0.5, 0.4, 0.3, 0.2, 0.5, 0.4, 0.3, 0.2),
    )
    document = build_results(
        final_validation={
            "metrics": {"val:mAP50-95": 0.2},
            "per_class": per_class_results(fake, names, "segment"),
        },
        rows=[{"epoch": 1.0}],
        epochs_requested=1,
        patience=None,
        task="segment",
        class_names=names,
        dataset={"instances_per_class": dict.fromkeys(names, 7)},
        resumed_after_epoch=None,
        exports=[],
    )
    data = json.dumps(document, indent=2).encode()  # as container/outputs.py writes it
    assert len(data) > 16 * 1024 * 1024  # the old 1 MiB limit lost these figures
    packed = archive(regular("metrics.json", data))

    tracemalloc.start()
    try:
        results = parse_job_results(json.loads(metrics_json_from_archive(packed)))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert results is not None and len(results.per_class) == classes
    assert peak < 96 * 1024 * 1024  # of the notifier's 256 MB
