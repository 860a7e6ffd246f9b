"""``yolo-pipeline upload`` against moto: order, resume, refusal, checksums."""

from __future__ import annotations

import io
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from tests.support.moto_eventbridge import enable_eventbridge, eventbridge_reported
from yolo_pipeline.aws import clients as aws
from yolo_pipeline.cli.upload import UploadOptions, upload_dataset
from yolo_pipeline.dataset.sample import make_shapes_dataset
from yolo_pipeline.errors import PipelineError, exit_code
from yolo_pipeline.upload.destination import parse_destination, prefix_note
from yolo_pipeline.upload.errors import UploadError
from yolo_pipeline.upload.etag import (
    LocalFile,
    RemoteObject,
    hash_file,
    is_unchanged,
    transfer_config,
)

BUCKET = "datasets-bucket"
DEST = f"s3://{BUCKET}/datasets/shapes/"
PREFIX = "datasets/shapes/"


class Recorder:
    """Records, on the client the upload uses, which keys were sent and when each finished."""

    def __init__(self, client: Any, fail_on: set[str] | None = None) -> None:
        self.started: list[str] = []
        self.completed = 0
        self.completed_before: dict[str, int] = {}  # key -> uploads finished when it started
        self.fail_on = fail_on or set()
        self._client = client
        self._hooks = [
            ("before-parameter-build.s3.PutObject", self._start),
            ("before-parameter-build.s3.CreateMultipartUpload", self._start),
            ("after-call.s3.PutObject", self._done),
            ("after-call.s3.CompleteMultipartUpload", self._done),
        ]
        for event, hook in self._hooks:
            client.meta.events.register(event, hook)

    def _start(self, params: dict[str, Any], **_: Any) -> None:
        key = params["Key"]
        if key in self.fail_on:
            raise ClientError(
                {"Error": {"Code": "RequestTimeout", "Message": "simulated drop"}}, "PutObject"
            )
        self.started.append(key)
        self.completed_before[key] = self.completed

    def _done(self, **_: Any) -> None:
        self.completed += 1

    def close(self) -> None:
        for event, hook in self._hooks:
            self._client.meta.events.unregister(event, hook)


@pytest.fixture
def s3(aws: None) -> Iterator[Any]:
    client = boto3.client("s3", region_name="us-east-1")
    client.create_bucket(Bucket=BUCKET)
    enable_eventbridge(client, BUCKET)
    with eventbridge_reported():
        yield client


@pytest.fixture
def dataset(tmp_path: Path) -> Path:
    root = tmp_path / "shapes"
    make_shapes_dataset(root, n_train=12, n_val=4, imgsz=64, seed=3)
    return root


def record(fail_on: set[str] | None = None) -> Recorder:
    return Recorder(aws.client("s3"), fail_on)


def run(path: Path, dest: str = DEST, **kwargs: Any) -> tuple[int, str]:
    out = io.StringIO()
    kwargs.setdefault("progress", False)
    try:
        code = upload_dataset(path, dest, out=out, **kwargs)
    except PipelineError as exc:  # as cli.main reports it
        print(f"error: {exc}", file=out)
        code = exit_code(exc)
    return code, out.getvalue()


def local_keys(root: Path) -> set[str]:
    return {PREFIX + p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file()}


def remote_keys(s3: Any, bucket: str = BUCKET) -> set[str]:
    return {o["Key"] for o in s3.list_objects_v2(Bucket=bucket).get("Contents", [])}


def test_uploads_everything_with_data_yaml_last(s3: Any, dataset: Path) -> None:
    rec = record()
    code, out = run(dataset, concurrency=4)
    rec.close()

    assert code == 0, out
    expected = local_keys(dataset)
    assert remote_keys(s3) == expected
    assert sorted(rec.started) == sorted(expected)
    assert rec.started[-1] == PREFIX + "data.yaml"
    # data.yaml started only after every other upload had completed.
    assert rec.completed_before[PREFIX + "data.yaml"] == len(expected) - 1
    assert "launcher" in out and "yolo-pipeline status" in out
    body = s3.get_object(Bucket=BUCKET, Key=PREFIX + "data.yaml")["Body"].read()
    assert body == (dataset / "data.yaml").read_bytes()


def test_interrupted_upload_resumes_skipping_unchanged_files(s3: Any, dataset: Path) -> None:
    failing = {PREFIX + "images/train/train_0003.jpg", PREFIX + "labels/val/val_0001.txt"}
    rec = record(fail_on=failing)
    code, out = run(dataset)
    rec.close()

    assert code == 1
    assert "data.yaml was NOT uploaded" in out
    assert "train_0003.jpg" in out and "RequestTimeout" in out
    first_pass = set(rec.started)
    assert PREFIX + "data.yaml" not in remote_keys(s3)
    assert remote_keys(s3) == local_keys(dataset) - failing - {PREFIX + "data.yaml"}

    rec = record()
    code, out = run(dataset)
    rec.close()

    assert code == 0, out
    assert set(rec.started) == failing | {PREFIX + "data.yaml"}
    assert not first_pass & set(rec.started)
    assert rec.started[-1] == PREFIX + "data.yaml"
    assert remote_keys(s3) == local_keys(dataset)


def test_changed_file_is_uploaded_again_and_retriggers(s3: Any, dataset: Path) -> None:
    assert run(dataset)[0] == 0
    label = dataset / "labels" / "train" / "train_0000.txt"
    label.write_text("0 0.5 0.5 0.2 0.2\n", encoding="utf-8")

    rec = record()
    code, out = run(dataset)
    rec.close()

    assert code == 0, out
    assert rec.started == [PREFIX + "labels/train/train_0000.txt", PREFIX + "data.yaml"]
    stored = s3.get_object(Bucket=BUCKET, Key=PREFIX + "labels/train/train_0000.txt")
    assert stored["Body"].read() == label.read_bytes()


def test_unchanged_dataset_does_not_retrigger_unless_asked(s3: Any, dataset: Path) -> None:
    assert run(dataset)[0] == 0
    rec = record()
    code, out = run(dataset)
    assert code == 0
    assert rec.started == []
    assert "--retrain" in out

    code, out = run(dataset, retrain=True)
    rec.close()
    assert code == 0, out
    assert rec.started == [PREFIX + "data.yaml"]


def test_multipart_files_are_recognised_as_unchanged(s3: Any, dataset: Path) -> None:
    big = dataset / "images" / "train" / "big.bin"
    big.write_bytes(os.urandom(11 * 1024 * 1024))  # 3 parts of 5 MiB (the S3 minimum)
    config = transfer_config(4)
    config.multipart_threshold = config.multipart_chunksize = 5 * 1024 * 1024

    rec = record()
    assert run(dataset, config=config)[0] == 0
    assert PREFIX + "images/train/big.bin" in rec.started
    etag = s3.head_object(Bucket=BUCKET, Key=PREFIX + "images/train/big.bin")["ETag"]
    assert etag.strip('"').endswith("-3")
    assert hash_file(LocalFile(big, "k", big.stat().st_size), config).etag == etag.strip('"')

    rec.started.clear()
    code, out = run(dataset, config=config)
    rec.close()
    assert code == 0
    assert rec.started == [], out


def test_broken_dataset_is_refused_and_nothing_uploaded(s3: Any, dataset: Path) -> None:
    (dataset / "labels" / "train" / "train_0002.txt").write_text("7 0.5 0.5 1.4 0.2\n")
    rec = record()
    code, out = run(dataset)
    rec.close()

    assert code == 1
    assert "train_0002.txt" in out
    assert "Refusing to upload" in out and "--force" in out
    assert rec.started == []
    assert remote_keys(s3) == set()


def test_force_uploads_a_broken_dataset(s3: Any, dataset: Path) -> None:
    (dataset / "labels" / "train" / "train_0002.txt").write_text("7 0.5 0.5 1.4 0.2\n")
    code, out = run(dataset, force=True)
    assert code == 0, out
    assert remote_keys(s3) == local_keys(dataset)


def test_objects_not_in_the_folder_are_reported_never_deleted(s3: Any, dataset: Path) -> None:
    s3.put_object(Bucket=BUCKET, Key=PREFIX + "images/train/old.jpg", Body=b"x")
    code, out = run(dataset)
    assert code == 0, out
    assert "images/train/old.jpg" in out and "--delete" in out
    assert PREFIX + "images/train/old.jpg" in remote_keys(s3)


def test_delete_removes_what_the_folder_no_longer_has(s3: Any, dataset: Path) -> None:
    s3.put_object(Bucket=BUCKET, Key=PREFIX + "training.yaml", Body=b"epochs: 3\n")
    code, out = run(dataset, options=UploadOptions(delete=True))
    assert code == 0, out
    assert PREFIX + "training.yaml" not in remote_keys(s3)


def test_dry_run_sends_nothing(s3: Any, dataset: Path) -> None:
    code, out = run(dataset, options=UploadOptions(dry_run=True, overrides={"epochs": 7}))
    assert code == 0 and "--dry-run" in out and "epochs=7" in out
    assert remote_keys(s3) == set()


def test_a_bucket_without_eventbridge_is_refused_with_the_fix(aws: None, dataset: Path) -> None:
    client = boto3.client("s3", region_name="us-east-1")
    client.create_bucket(Bucket="not-the-stacks")
    with eventbridge_reported():
        code, out = run(dataset, dest="s3://not-the-stacks/datasets/shapes/",
                        options=UploadOptions())  # fmt: skip
    assert code == 1 and "sends no events to EventBridge" in out
    assert "EventBridgeConfiguration" in out
    assert remote_keys(client, "not-the-stacks") == set()


def test_missing_bucket_is_a_clear_error(aws: None, dataset: Path) -> None:
    code, out = run(dataset, dest="s3://no-such-bucket-here/datasets/shapes/")
    assert code == 1
    assert "bucket does not exist" in out and "bucket name" in out


@pytest.mark.parametrize(
    ("uri", "expected"),
    [
        ("s3://b-1/datasets/cats/", ("b-1", "datasets/cats/")),
        ("s3://b-1/datasets/cats", ("b-1", "datasets/cats/")),
        ("s3://b-1/team/datasets/cats/", ("b-1", "team/datasets/cats/")),
    ],
)
def test_parse_destination(uri: str, expected: tuple[str, str]) -> None:
    assert parse_destination(uri) == expected


@pytest.mark.parametrize(
    "uri", ["b-1/datasets/cats/", "s3://b-1/", "s3://b-1/cats/", "s3://B/x/y/"]
)
def test_parse_destination_rejects_what_the_launcher_ignores(uri: str) -> None:
    with pytest.raises(UploadError, match="datasets/<name>/"):
        parse_destination(uri)


def test_prefix_outside_the_default_is_noted() -> None:
    assert prefix_note("datasets/cats/") == ""
    assert "DatasetPrefix" in prefix_note("team/cats/")


def test_usage_errors_exit_2(tmp_path: Path) -> None:
    code, out = run(tmp_path, dest=DEST)
    assert code == 2
    assert "no data.yaml" in out


def test_md5_metadata_settles_a_kms_style_etag() -> None:
    local = LocalFile(Path("x"), "k", 10, md5="a" * 32, etag="a" * 32)
    kms = RemoteObject(10, "f" * 32)  # SSE-KMS: the ETag is not the MD5
    assert not is_unchanged(local, kms, None)
    assert is_unchanged(local, kms, "a" * 32)
    assert not is_unchanged(local, RemoteObject(11, "a" * 32), "a" * 32)
    assert not is_unchanged(local, None, None)


def test_cli_upload_with_progress_bars(
    s3: Any, dataset: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from yolo_pipeline.cli.main import main

    assert main(["upload", str(dataset / "data.yaml"), DEST, "--concurrency", "2"]) == 0
    captured = capsys.readouterr()
    assert "yolo-pipeline status" in captured.out
    assert "bytes" in captured.err  # tqdm's byte bar
    assert remote_keys(s3) == local_keys(dataset)
    with pytest.raises(SystemExit) as exc:  # argparse: a usage error
        main(["upload", str(dataset), DEST, "--concurrency", "0"])
    assert exc.value.code == 2
