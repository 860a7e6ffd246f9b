"""A dataset zip dropped under datasets/: one job on the zip, ranged reads only."""

from __future__ import annotations

import os
from typing import Any

from tests.support.dataset_factory import FAKE_JPEG, detect_dataset, with_changes
from tests.support.helpers import FakeLambdaContext
from tests.support.launcher_world import BUCKET, LauncherWorld, upload_event
from tests.support.zip_factory import zip_files
from yolo_pipeline.aws import clients as aws

LABEL = "labels/train/train_00001.txt"


def _put_zip(files: dict[str, bytes], key: str, top: str = "") -> dict[str, Any]:
    s3 = aws.client("s3")
    s3.put_object(Bucket=BUCKET, Key=key, Body=zip_files(files, top=top, stored=(".jpg",)))
    head = s3.head_object(Bucket=BUCKET, Key=key)
    return {"size": head["ContentLength"], "etag": head["ETag"].strip('"')}


def _with_big_images(files: dict[str, bytes]) -> dict[str, bytes]:
    """Images of 20 KB of noise, so the archive is far larger than its labels."""
    return {
        p: (FAKE_JPEG + os.urandom(20_000) if p.endswith(".jpg") else c) for p, c in files.items()
    }


class RangeSpy:
    """Every GetObject the launcher sends, with its Range header (botocore event hook)."""

    def __init__(self) -> None:
        self.gets: list[tuple[str, str | None]] = []
        aws.client("s3").meta.events.register("before-send.s3.GetObject", self)

    def __call__(self, request: Any, **_: Any) -> None:
        header = request.headers.get("Range")
        self.gets.append((request.url, header.decode() if isinstance(header, bytes) else header))

    def fetched(self) -> int:
        total = 0
        for _, header in self.gets:
            start, _, end = str(header).removeprefix("bytes=").partition("-")
            total += int(end) - int(start) + 1
        return total


def test_a_zip_upload_starts_one_job_with_the_zip_as_its_channel(
    launcher_world: LauncherWorld, lambda_context: FakeLambdaContext
) -> None:
    files = _with_big_images(detect_dataset(n_train=30, n_val=10))
    obj = _put_zip(files, "datasets/shapes.zip", top="export/")
    spy = RangeSpy()

    result = launcher_world.invoke(upload_event("datasets/shapes.zip", **obj), lambda_context)

    assert result["status"] == "started", launcher_world.emails()
    assert len(launcher_world.requests) == 1
    request = launcher_world.requests[0]
    assert request["TrainingJobName"].startswith("yolo-shapes-")
    source = request["InputDataConfig"][0]["DataSource"]["S3DataSource"]
    assert source["S3Uri"] == f"s3://{BUCKET}/datasets/shapes.zip"
    assert source["S3DataType"] == "S3Prefix"
    emails = launcher_world.emails()
    assert [e["subject"] for e in emails] == ["[yolo] Training started: shapes"]
    assert f"s3://{BUCKET}/datasets/shapes.zip" in emails[0]["message"]

    # No full GET of the archive: every read is ranged, and together they are a sliver.
    assert spy.gets and all(header for _, header in spy.gets), spy.gets
    assert spy.fetched() < obj["size"] * 0.1, (spy.fetched(), obj["size"])
    assert len(spy.gets) <= 6


def test_a_broken_label_inside_a_zip_is_named_by_its_archive_path_and_line(
    launcher_world: LauncherWorld, lambda_context: FakeLambdaContext
) -> None:
    files = with_changes(detect_dataset(), **{LABEL: "0 0.5 0.5 0.1 0.1\n0 1.7 0.5 0.1 0.1\n"})
    obj = _put_zip(files, "datasets/broken.zip", top="broken/")

    result = launcher_world.invoke(upload_event("datasets/broken.zip", **obj), lambda_context)

    assert result["status"] == "rejected"
    assert launcher_world.requests == []
    (email,) = launcher_world.emails()
    assert email["subject"] == "[yolo] Dataset rejected: broken"
    assert f"broken/{LABEL}, line 2" in email["message"], email["message"]


def test_a_hostile_zip_is_rejected_by_email_not_retried(
    launcher_world: LauncherWorld, lambda_context: FakeLambdaContext
) -> None:
    from tests.support.zip_factory import Raw, build_zip

    body = build_zip([Raw("data.yaml", b"names: [a]\n"), Raw("../../x.txt", b"y")])
    aws.client("s3").put_object(Bucket=BUCKET, Key="datasets/evil.zip", Body=body)

    result = launcher_world.invoke(upload_event("datasets/evil.zip"), lambda_context)

    assert result["status"] == "rejected"
    (email,) = launcher_world.emails()
    assert "escapes the archive root" in email["message"]


def test_a_folder_beyond_one_check_is_rejected_with_the_way_out(
    launcher_world: LauncherWorld, lambda_context: FakeLambdaContext, monkeypatch: Any
) -> None:
    from tests.support.dataset_factory import put_s3
    from yolo_pipeline.launcher import limits

    monkeypatch.setattr(limits, "FOLDER_MAX_LABEL_FILES", 5)
    put_s3(detect_dataset(n_train=6, n_val=2), BUCKET, "datasets/huge/", create_bucket=False)

    result = launcher_world.invoke(upload_event("datasets/huge/data.yaml"), lambda_context)

    assert result["status"] == "rejected" and launcher_world.requests == []
    (email,) = launcher_world.emails()
    assert "the folder holds 8 label files; one check reads at most 5" in email["message"]
    assert "upload the zip instead" in " ".join(email["message"].split())
