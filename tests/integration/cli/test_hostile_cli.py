"""The CLI against hostile folders: symlinks out of the folder, FIFOs and
unreadable files give one clear error line; nothing outside the folder is ever uploaded."""

from __future__ import annotations

import io
import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest

from yolo_pipeline.cli.main import main
from yolo_pipeline.cli.upload import upload_dataset
from yolo_pipeline.dataset.sample import make_shapes_dataset
from yolo_pipeline.errors import PipelineError, exit_code

BUCKET = "yolo-datasets-123456789012"
DEST = f"s3://{BUCKET}/datasets/shapes/"
SECRET = b"aws_secret_access_key = hunter2\n"


@pytest.fixture
def s3(aws: None) -> Iterator[Any]:
    client = boto3.client("s3", region_name="us-east-1")
    client.create_bucket(Bucket=BUCKET)
    yield client


@pytest.fixture
def dataset(tmp_path: Path) -> Path:
    root = tmp_path / "shapes"
    make_shapes_dataset(root, n_train=6, n_val=3, imgsz=32, seed=1)
    (tmp_path / "secret.txt").write_bytes(SECRET)
    return root


def _uploaded(s3: Any) -> dict[str, bytes]:
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket=BUCKET).get("Contents", [])]
    return {k: s3.get_object(Bucket=BUCKET, Key=k)["Body"].read() for k in keys}


def _upload(root: Path, **kwargs: Any) -> tuple[int, str]:
    out = io.StringIO()
    try:
        code = upload_dataset(root, DEST, out=out, progress=False, **kwargs)
    except PipelineError as exc:  # as cli.main reports it
        print(f"error: {exc}", file=out)
        code = exit_code(exc)
    return code, out.getvalue()


def _validate(root: Path, capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    code = main(["validate", str(root)])
    captured = capsys.readouterr()
    assert "Traceback" not in captured.out + captured.err
    return code, captured.out + captured.err


@pytest.mark.parametrize("force", [False, True])
def test_a_symlink_out_of_the_folder_is_never_uploaded(s3: Any, dataset: Path, force: bool) -> None:
    (dataset / "images/train/leak.jpg").symlink_to("../../../secret.txt")
    (dataset / "labels/train/leak.txt").symlink_to(dataset.parent / "secret.txt")
    code, out = _upload(dataset, force=force)
    uploaded = _uploaded(s3)
    assert SECRET not in uploaded.values()
    assert not any("leak" in key for key in uploaded)
    assert "outside the dataset folder" in out
    if force:
        assert code == 0 and "datasets/shapes/data.yaml" in uploaded
    else:
        assert code == 1 and uploaded == {}


def test_validate_reports_a_symlink_out_as_an_error(
    dataset: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (dataset / "images/train/leak.jpg").symlink_to("../../../secret.txt")
    code, out = _validate(dataset, capsys)
    assert code == 1
    assert "images/train/leak.jpg: is a symbolic link to" in out and "outside" in out


def test_a_symlink_inside_the_folder_is_fine(
    dataset: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    first = sorted((dataset / "images/train").iterdir())[0]
    (dataset / "images/train/alias.jpg").symlink_to(first.name)
    code, out = _validate(dataset, capsys)
    assert code == 0, out


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs mkfifo")
def test_a_fifo_named_data_yaml_is_refused_not_opened(
    s3: Any, dataset: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (dataset / "data.yaml").unlink()
    os.mkfifo(dataset / "data.yaml")  # opening it for reading would block forever
    code, out = _validate(dataset, capsys)
    assert code == 1 and "data.yaml: is a FIFO (named pipe), not a regular file" in out
    code, out = _validate(dataset / "data.yaml", capsys)
    assert code == 1 and "not a regular file" in out
    code, out = _upload(dataset)
    assert code == 2 and _uploaded(s3) == {}


@pytest.mark.skipif(
    sys.platform == "win32" or os.geteuid() == 0, reason="root reads unreadable files"
)
def test_an_unreadable_file_gives_one_error_line(
    s3: Any, dataset: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    image = sorted((dataset / "images/train").iterdir())[0]
    image.chmod(0)
    try:
        code, out = _upload(dataset, force=True)
        assert code == 1 and "Traceback" not in out
        assert f"cannot read '{image}': Permission denied" in out
    finally:
        image.chmod(0o644)


def test_an_unreadable_file_gives_one_error_line_even_as_root(
    s3: Any, dataset: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The same outcome where chmod cannot stop root: the read fails as EACCES would."""
    image = sorted((dataset / "images/train").iterdir())[0]
    real_open = Path.open

    def deny(self: Path, *args: Any, **kwargs: Any) -> Any:
        if self == image:
            raise PermissionError(13, "Permission denied", str(self))
        return real_open(self, *args, **kwargs)

    monkeypatch.setattr(Path, "open", deny)
    code, out = _upload(dataset, force=True)
    assert code == 1 and "Traceback" not in out
    assert out.strip().splitlines()[-1].endswith(f"cannot read '{image}': Permission denied")
    assert _uploaded(s3) == {}


def test_data_yaml_symlinked_out_is_refused_even_with_force(
    s3: Any, dataset: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    outside = dataset.parent / "elsewhere.yaml"
    (dataset / "data.yaml").rename(outside)
    (dataset / "data.yaml").symlink_to(outside)
    (dataset / "images/train/loop.jpg").symlink_to("loop.jpg")  # a symlink loop, too
    code, out = _validate(dataset, capsys)
    assert code == 1 and "data.yaml: is a symbolic link to" in out
    code, out = _upload(dataset, force=True)
    assert code == 1 and "is not a regular file inside" in out and "Traceback" not in out
    assert _uploaded(s3) == {}


def test_a_file_name_that_is_not_utf8_is_refused_and_shown_inert(s3: Any, dataset: Path) -> None:
    """A Latin-1 name has no S3 key: refused before a byte is sent, never a traceback."""
    image = sorted((dataset / "images/train").iterdir())[0]
    odd = os.fsencode(dataset / "images/train") + b"/caf\xe9\x1b[2J.jpg"
    with open(odd, "wb") as handle:
        handle.write(image.read_bytes())
    code, out = _upload(dataset)
    assert code == 1 and "Traceback" not in out
    assert "not UTF-8" in out and "\x1b" not in out and "\\x1b[2J" in out
    assert _uploaded(s3) == {}
