"""Storage backends: same listing and reads on a folder and an S3 prefix (moto)."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest

from tests.support.dataset_factory import detect_dataset, put_s3, write_local
from yolo_pipeline.aws import clients as aws_module
from yolo_pipeline.dataset.storage.base import FileTooLargeError, StorageError, bounded_map
from yolo_pipeline.dataset.storage.local import LocalStorage
from yolo_pipeline.dataset.storage.opener import open_location
from yolo_pipeline.dataset.storage.s3 import S3Storage


def test_local_and_s3_list_the_same_files(tmp_path: Path, aws: None) -> None:
    files = detect_dataset()
    local = LocalStorage(write_local(tmp_path, files))
    put_s3(files, "bucket", "datasets/shapes/")
    aws_client = aws_client_s3()
    aws_client.put_object(Bucket="bucket", Key="datasets/shapes/images/", Body=b"")  # folder marker
    aws_client.put_object(Bucket="bucket", Key="datasets/other/x.jpg", Body=b"x")  # another prefix
    s3 = S3Storage("bucket", "datasets/shapes")
    assert s3.uri == "s3://bucket/datasets/shapes/"
    assert (
        [f.path for f in s3.list_files()] == sorted(files) == [f.path for f in local.list_files()]
    )
    assert [f.size for f in s3.list_files()] == [len(files[p]) for p in sorted(files)]
    assert all(f.etag for f in s3.list_files())
    for storage in (local, s3):
        assert storage.read_bytes("data.yaml") == files["data.yaml"]
        with pytest.raises(FileTooLargeError):
            storage.read_bytes("data.yaml", max_bytes=5)
        with pytest.raises(StorageError):
            storage.read_bytes("missing.txt")


def aws_client_s3():  # type: ignore[no-untyped-def]
    return aws_module.client("s3")


def test_s3_lists_once_and_paginates(aws: None) -> None:
    files = {f"labels/{i:04d}.txt": b"0 0.5 0.5 0.1 0.1" for i in range(1100)}
    put_s3(files, "bucket", "p/")
    client = aws_client_s3()
    calls: list[str] = []
    client.meta.events.register("before-send.s3.ListObjectsV2", lambda **kw: calls.append("list"))
    s3 = S3Storage("bucket", "p/", client=client)
    assert len(s3.list_files()) == 1100
    assert len(s3.list_files()) == 1100
    assert calls == ["list", "list"]  # 1,000 keys a page, and only the first call lists


def test_s3_missing_bucket_is_a_storage_error(aws: None) -> None:
    with pytest.raises(StorageError, match="does not exist"):
        S3Storage("no-such-bucket", "x/").list_files()


def test_empty_s3_object_reads_with_a_range(aws: None) -> None:
    put_s3({"empty.txt": b""}, "bucket", "p/")
    assert S3Storage("bucket", "p/").read_bytes("empty.txt", max_bytes=10) == b""


def test_local_refuses_paths_outside_root(tmp_path: Path) -> None:
    (tmp_path / "secret.txt").write_text("x")
    storage = LocalStorage(write_local(tmp_path / "ds", {"a.txt": b"a"}))
    with pytest.raises(StorageError, match="outside"):
        storage.read_bytes("../secret.txt")


def test_bounded_map_streams_with_bounded_concurrency() -> None:
    active = 0
    peak = 0
    lock = threading.Lock()

    def read(path: str) -> bytes:
        nonlocal active, peak
        with lock:
            active += 1
            peak = max(peak, active)
        time.sleep(0.01)
        with lock:
            active -= 1
        return path.encode()

    started: list[int] = []

    def paths():  # type: ignore[no-untyped-def]
        for i in range(200):
            started.append(i)
            yield str(i)

    it = bounded_map(paths(), read, lambda p, b: len(b), max_workers=4)
    first = next(it)
    assert first == ("0", 1)
    assert len(started) <= 9  # the generator is consumed lazily: 2 x workers ahead
    rest = dict(it)
    assert len(rest) == 199 and peak <= 4


def test_bounded_map_raises_read_errors() -> None:
    def read(path: str) -> bytes:
        if path == "3":
            raise StorageError("cannot read 3")
        return b""

    with pytest.raises(StorageError, match="cannot read 3"):
        list(bounded_map(map(str, range(10)), read, lambda p, b: b, max_workers=2))


def test_open_location(tmp_path: Path) -> None:
    root = write_local(tmp_path / "ds", {"data.yaml": b"x", "my.yml": b"y"})
    storage, name = open_location(str(root))
    assert isinstance(storage, LocalStorage) and name == "data.yaml"
    storage, name = open_location(str(root / "my.yml"))
    assert storage.uri == str(root) and name == "my.yml"
    with pytest.raises(FileNotFoundError):
        open_location(str(tmp_path / "missing"))
    s3, name = open_location("s3://b/datasets/x/data.yaml", client=object())
    assert s3.uri == "s3://b/datasets/x/" and name == "data.yaml"
    s3, name = open_location("s3://b/datasets/x", client=object())
    assert s3.uri == "s3://b/datasets/x/" and name == "data.yaml"
    s3, _ = open_location("s3://b", client=object())
    assert s3.uri == "s3://b/"
    with pytest.raises(ValueError, match="no bucket"):
        open_location("s3:///x")
