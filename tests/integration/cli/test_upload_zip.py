"""``yolo-pipeline upload X.zip s3://b/datasets/x.zip``: validated, multipart, resumable."""

from __future__ import annotations

import io
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from boto3.s3.transfer import TransferConfig

from tests.support.dataset_factory import detect_dataset
from tests.support.moto_eventbridge import enable_eventbridge, eventbridge_reported
from tests.support.zip_factory import write_zip
from yolo_pipeline.aws import clients as aws
from yolo_pipeline.cli.main import main
from yolo_pipeline.cli.upload import upload_dataset
from yolo_pipeline.errors import PipelineError, exit_code
from yolo_pipeline.upload.destination import parse_zip_destination
from yolo_pipeline.upload.errors import UploadError

BUCKET = "datasets-bucket"
KEY = "datasets/shapes.zip"
DEST = f"s3://{BUCKET}/{KEY}"
SMALL_PARTS = TransferConfig(
    multipart_threshold=5 * 1024 * 1024,
    multipart_chunksize=5 * 1024 * 1024,
    preferred_transfer_client="classic",
)


@pytest.fixture
def s3(aws: None) -> Iterator[Any]:
    client = boto3.client("s3", region_name="us-east-1")
    client.create_bucket(Bucket=BUCKET)
    enable_eventbridge(client, BUCKET)
    with eventbridge_reported():
        yield client


@pytest.fixture
def archive(tmp_path: Path) -> Path:
    files = detect_dataset(n_train=6, n_val=2)
    files["images/train/big.jpg"] = os.urandom(11 * 1024 * 1024)  # three 5 MiB parts
    files["labels/train/big.txt"] = b"0 0.5 0.5 0.1 0.1\n"
    return write_zip(tmp_path / "shapes.zip", files)


def run(path: Path, dest: str = DEST, **kwargs: Any) -> tuple[int, str]:
    out = io.StringIO()
    kwargs.setdefault("progress", False)
    try:
        code = upload_dataset(path, dest, out=out, config=SMALL_PARTS, **kwargs)
    except PipelineError as exc:  # as cli.main reports it
        print(f"error: {exc}", file=out)
        code = exit_code(exc)
    return code, out.getvalue()


def test_a_zip_goes_up_as_one_multipart_object_and_a_rerun_skips_it(s3: Any, archive: Path) -> None:
    parts: list[int] = []
    aws.client("s3").meta.events.register(
        "before-parameter-build.s3.UploadPart", lambda params, **_: parts.append(1)
    )
    code, out = run(archive)
    assert code == 0, out
    assert "VALID" in out and "The zip is in place" in out
    assert s3.get_object(Bucket=BUCKET, Key=KEY)["Body"].read() == archive.read_bytes()
    assert len(parts) == 3
    assert s3.head_object(Bucket=BUCKET, Key=KEY)["ETag"].strip('"').endswith("-3")

    code, out = run(archive)
    assert code == 0 and "already holds this zip" in out
    assert len(parts) == 3  # nothing sent again
    code, out = run(archive, retrain=True)
    assert code == 0 and len(parts) == 6


def test_an_invalid_zip_is_refused_and_nothing_uploaded(s3: Any, tmp_path: Path) -> None:
    bad = write_zip(tmp_path / "bad.zip", {"data.yaml": b"names: [a]\n"})
    code, out = run(bad, f"s3://{BUCKET}/datasets/bad.zip")
    assert code == 1 and "Refusing to upload" in out
    assert "Contents" not in s3.list_objects_v2(Bucket=BUCKET)


@pytest.mark.parametrize(
    "uri", [f"s3://{BUCKET}/datasets/shapes/", f"s3://{BUCKET}/shapes.zip", f"s3://{BUCKET}/d/.zip"]
)
def test_a_zip_needs_a_zip_key_under_a_prefix(uri: str) -> None:
    with pytest.raises(UploadError):
        parse_zip_destination(uri)


def test_cli_uploads_a_zip_with_progress(
    s3: Any, archive: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["upload", str(archive), DEST]) == 0
    captured = capsys.readouterr()
    assert "Uploaded shapes.zip" in captured.out
    assert "zip" in captured.err  # the tqdm bars
    assert main(["upload", str(archive), f"s3://{BUCKET}/datasets/shapes/"]) == 2
