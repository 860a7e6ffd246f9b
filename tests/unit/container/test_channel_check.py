"""The channel check: the same digest as the launcher's for the same content, a refusal
that says the dataset changed for any other, and a log line when no digest was given."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from tests.support.dataset_factory import detect_dataset, with_changes, write_local
from tests.support.zip_factory import zip_files
from yolo_pipeline.container.channel_check import channel_digest, recheck_dataset, verify_channel
from yolo_pipeline.container.errors import UserError
from yolo_pipeline.contract import ENV_DATASET_DIGEST, FAILURE_DATASET_CHANGED
from yolo_pipeline.dataset.digest import zip_digest
from yolo_pipeline.dataset.storage.zip_storage import LocalZipFile, ZipStorage

LABEL = "labels/train/train_00001.txt"


def test_a_zip_channel_digest_is_the_launchers(tmp_path: Path) -> None:
    archive = write_local(tmp_path / "channel", {"shapes.zip": zip_files(detect_dataset())})
    storage = ZipStorage(LocalZipFile(archive / "shapes.zip"))  # what the launcher reads
    entries = storage.archive.directory.entries
    assert channel_digest(archive) == zip_digest((e.name, e.size, e.crc) for e in entries)


def test_a_folder_digest_sees_content_of_labels_and_size_of_images(tmp_path: Path) -> None:
    files = detect_dataset()
    digest = channel_digest(write_local(tmp_path / "a", files))
    image = next(p for p in files if p.endswith(".jpg"))
    same_size_image = with_changes(files, **{image: bytes(reversed(files[image]))})
    assert channel_digest(write_local(tmp_path / "b", same_size_image)) == digest
    changed_label = with_changes(files, **{LABEL: files[LABEL].replace(b"0 ", b"1 ", 1)})
    assert channel_digest(write_local(tmp_path / "c", changed_label)) != digest


def test_a_changed_channel_is_refused_and_a_missing_digest_is_logged(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    channel = write_local(tmp_path / "channel", detect_dataset())
    verify_channel(channel, {ENV_DATASET_DIGEST: channel_digest(channel)})
    with pytest.raises(UserError) as refused:
        verify_channel(channel, {ENV_DATASET_DIGEST: "v1:" + "0" * 64})
    assert str(refused.value).startswith(FAILURE_DATASET_CHANGED)
    with caplog.at_level(logging.WARNING):
        verify_channel(channel, {})
    assert "only the dataset re-check below protects this run" in caplog.text


def test_the_recheck_refuses_what_the_launcher_would(tmp_path: Path) -> None:
    files = with_changes(detect_dataset(), **{LABEL: b"7 0.5 0.5 0.2 0.2\n"})
    with pytest.raises(UserError, match="fails its checks on the training instance"):
        recheck_dataset(write_local(tmp_path / "d", files))
    recheck_dataset(write_local(tmp_path / "ok", detect_dataset()))
