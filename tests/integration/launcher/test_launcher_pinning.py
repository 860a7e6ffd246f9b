"""What was validated is what trains: the launcher reads the object the event named, puts the
digest of what it validated in the job, and the container refuses any other channel."""

from __future__ import annotations

import json
import signal
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support.dataset_factory import detect_dataset, put_s3, with_changes, write_local
from tests.support.helpers import FakeLambdaContext
from tests.support.launcher_world import BUCKET, LauncherWorld, upload_event
from tests.support.zip_factory import zip_files
from yolo_pipeline.aws import clients as aws
from yolo_pipeline.container import entry
from yolo_pipeline.contract import ENV_DATASET_DIGEST, FAILURE_DATASET_CHANGED

LABEL = "labels/train/train_00001.txt"
BAD_LABEL = b"7 0.5 0.5 0.2 0.2\n"  # class 7 of 3: what a replaced upload might hold


@pytest.fixture(autouse=True)
def _keep_sigterm() -> Iterator[None]:
    previous = signal.getsignal(signal.SIGTERM)
    yield
    signal.signal(signal.SIGTERM, previous)


def _digest(request: dict[str, Any]) -> str:
    digest: str = request["Environment"][ENV_DATASET_DIGEST]
    assert digest.startswith("v1:")
    return digest


def _run_container(tmp_path: Path, channel: dict[str, bytes], digest: str) -> tuple[int, str]:
    """The training entrypoint on a channel holding ``channel``, with the job's digest."""
    root = tmp_path / "sm"
    write_local(root / "input" / "data" / "dataset", channel)
    config = root / "input" / "config" / "hyperparameters.json"
    config.parent.mkdir(parents=True)
    config.write_text(json.dumps({"model": "yolo11n.yaml", "task": "detect"}), encoding="utf-8")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv(ENV_DATASET_DIGEST, digest)
        code = entry.main(["train", "--sm-root", str(root)], code=tmp_path / "code")
    failure = root / "output" / "failure"
    return code, failure.read_text(encoding="utf-8") if failure.exists() else ""


def test_a_folder_edited_after_its_job_was_requested_fails_before_training(
    launcher_world: LauncherWorld, lambda_context: FakeLambdaContext, tmp_path: Path
) -> None:
    files = detect_dataset(n_train=6, n_val=3)
    files["README.txt"] = b"notes the validator never reads, hashed all the same\n"
    put_s3(files, BUCKET, "datasets/shapes/", create_bucket=False)
    launcher_world.invoke(upload_event("datasets/shapes/data.yaml"), lambda_context)
    (request,) = launcher_world.requests
    digest = _digest(request)

    # The same content downloaded: the digests agree (checked before any import of torch).
    from yolo_pipeline.container.channel_check import folder_digest

    assert folder_digest(write_local(tmp_path / "same", files)) == digest
    # One label edited, a file added, the README changed: each is a different dataset.
    variants = [
        with_changes(files, **{LABEL: BAD_LABEL}),
        {**files, "labels/train/extra.txt": b""},
        with_changes(files, **{"README.txt": b"other notes\n"}),
    ]
    for n, changed in enumerate(variants):
        assert folder_digest(write_local(tmp_path / f"v{n}", changed)) != digest

    code, reason = _run_container(tmp_path, with_changes(files, **{LABEL: BAD_LABEL}), digest)
    assert code == entry.EXIT_FAILED
    assert reason.startswith(FAILURE_DATASET_CHANGED)
    assert "newer upload gets its own check" in reason


def test_a_zip_replaced_after_its_job_was_requested_fails_before_training(
    launcher_world: LauncherWorld, lambda_context: FakeLambdaContext, tmp_path: Path
) -> None:
    files = detect_dataset(n_train=6, n_val=3)
    s3 = aws.client("s3")
    s3.put_object(Bucket=BUCKET, Key="datasets/shapes.zip", Body=zip_files(files))
    launcher_world.invoke(upload_event("datasets/shapes.zip"), lambda_context)
    (request,) = launcher_world.requests
    digest = _digest(request)

    same = _run_container_digest(tmp_path / "a", zip_files(files))
    assert same == digest
    replaced = zip_files(with_changes(files, **{LABEL: BAD_LABEL}))
    code, reason = _run_container(tmp_path / "b", {"shapes.zip": replaced}, digest)
    assert code == entry.EXIT_FAILED and reason.startswith(FAILURE_DATASET_CHANGED)


def _run_container_digest(folder: Path, archive: bytes) -> str:
    from yolo_pipeline.container.channel_check import channel_digest

    write_local(folder, {"shapes.zip": archive})
    return channel_digest(folder)


def test_a_zip_replaced_between_settle_and_validation_is_superseded_not_checked(
    launcher_world: LauncherWorld,
    lambda_context: FakeLambdaContext,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    files = detect_dataset(n_train=6, n_val=3)
    s3 = aws.client("s3")
    s3.put_object(Bucket=BUCKET, Key="datasets/shapes.zip", Body=zip_files(files))
    event = upload_event("datasets/shapes.zip")
    # C replaces A after the settle rule looked (its HEAD) and before the check reads.
    bad = zip_files(with_changes(files, **{LABEL: BAD_LABEL}))
    replace_after_settle(monkeypatch, "datasets/shapes.zip", bad)
    result = launcher_world.invoke(event, lambda_context)

    assert result["status"] == "superseded"
    assert launcher_world.requests == [] and launcher_world.emails() == []


def test_a_versioned_zip_is_validated_as_the_version_the_event_named(
    launcher_world: LauncherWorld,
    lambda_context: FakeLambdaContext,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    s3 = aws.client("s3")
    s3.put_bucket_versioning(Bucket=BUCKET, VersioningConfiguration={"Status": "Enabled"})
    files = detect_dataset(n_train=6, n_val=3)
    put = s3.put_object(Bucket=BUCKET, Key="datasets/shapes.zip", Body=zip_files(files))
    event = upload_event("datasets/shapes.zip", **{"version-id": put["VersionId"]})
    bad = zip_files(with_changes(files, **{LABEL: BAD_LABEL}))
    replace_after_settle(monkeypatch, "datasets/shapes.zip", bad)
    result = launcher_world.invoke(event, lambda_context)

    # A (the event's version) is what was checked: valid, and its job carries A's digest,
    # which C (what SageMaker will download) does not match.
    assert result["status"] == "started"
    (request,) = launcher_world.requests
    assert _run_container_digest(tmp_path / "a", zip_files(files)) == _digest(request)
    assert _run_container_digest(tmp_path / "c", bad) != _digest(request)


def replace_after_settle(monkeypatch: pytest.MonkeyPatch, key: str, body: bytes) -> None:
    """Put ``body`` under ``key`` right after the launcher's first HeadObject of it (the
    settle rule's), so the check that follows meets the newer object."""
    from yolo_pipeline.launcher import service

    real = service.settle

    def settle_then_replace(*args: Any, **kwargs: Any) -> Any:
        decision = real(*args, **kwargs)
        aws.client("s3").put_object(Bucket=BUCKET, Key=key, Body=body)
        return decision

    monkeypatch.setattr(service, "settle", settle_then_replace)


def test_a_data_yaml_replaced_between_settle_and_validation_is_superseded(
    launcher_world: LauncherWorld,
    lambda_context: FakeLambdaContext,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    files = detect_dataset(n_train=6, n_val=3)
    put_s3(files, BUCKET, "datasets/shapes/", create_bucket=False)
    event = upload_event("datasets/shapes/data.yaml")
    replace_after_settle(monkeypatch, "datasets/shapes/data.yaml", b"names: [cat, dog]\n")
    result = launcher_world.invoke(event, lambda_context)

    assert result["status"] == "superseded"
    assert launcher_world.requests == [] and launcher_world.emails() == []
