"""The container unpacks a channel holding one zip under the reader's rules."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.dataset_factory import detect_dataset
from tests.support.zip_factory import Raw, build_zip, write_zip, zeros_deflate
from yolo_pipeline.container.zip_extract import channel_zip, dataset_folder, extract_dataset
from yolo_pipeline.dataset.storage.zip_reader import ArchiveError, ZipLimits


def test_a_dataset_folder_channel_is_used_as_it_is(tmp_path: Path) -> None:
    channel = tmp_path / "channel"
    channel.mkdir()
    (channel / "data.yaml").write_text("names: [a]\n")
    (channel / "stray.zip").write_bytes(b"")
    assert channel_zip(channel) is None
    assert dataset_folder(channel, tmp_path / "scratch") == channel


def test_one_zip_is_unpacked_and_its_top_folder_is_the_root(tmp_path: Path) -> None:
    files = detect_dataset()
    channel = tmp_path / "channel"
    channel.mkdir()
    write_zip(channel / "shapes.zip", files, top="export/")
    root = dataset_folder(channel, tmp_path / "scratch")
    assert root == (tmp_path / "scratch" / "export").resolve()
    assert {p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file()} == set(files)
    assert (root / "data.yaml").read_bytes() == files["data.yaml"]


def test_two_zips_in_the_channel_are_refused(tmp_path: Path) -> None:
    for name in ("a.zip", "b.zip"):
        write_zip(tmp_path / name, {"data.yaml": b"x"})
    with pytest.raises(ArchiveError, match="2 zips"):
        channel_zip(tmp_path)


def test_a_zip_without_data_yaml_is_refused(tmp_path: Path) -> None:
    path = write_zip(tmp_path / "x.zip", {"a/data.yaml": b"x", "b/c.txt": b"y"})
    with pytest.raises(ArchiveError, match=r"no data\.yaml"):
        extract_dataset(path, tmp_path / "out")


def test_hostile_entries_are_refused_before_anything_is_written(tmp_path: Path) -> None:
    path = tmp_path / "evil.zip"
    path.write_bytes(build_zip([Raw("data.yaml", b"x"), Raw("../escape.txt", b"y")]))
    with pytest.raises(ArchiveError, match="escapes"):
        extract_dataset(path, tmp_path / "out")
    assert not (tmp_path / "escape.txt").exists()
    assert not (tmp_path / "out").exists()


def test_an_entry_lying_about_its_size_stops_at_the_declared_size(tmp_path: Path) -> None:
    path = tmp_path / "bomb.zip"
    bomb = zeros_deflate(3)
    path.write_bytes(
        build_zip([Raw("data.yaml", b"x"), Raw("images/a.jpg", payload=bomb, size=1000, crc=0)])
    )
    with pytest.raises(ArchiveError, match=r"beyond its declared 1,000 bytes"):
        extract_dataset(path, tmp_path / "out")
    written = tmp_path / "out" / "images" / "a.jpg"
    assert written.stat().st_size <= 1000


def test_the_unpacked_size_must_fit_the_volume(tmp_path: Path) -> None:
    path = write_zip(tmp_path / "x.zip", {"data.yaml": b"x"})
    import yolo_pipeline.container.zip_extract as module

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(module, "DISK_MARGIN", 1 << 60)
        with pytest.raises(ArchiveError, match="volume"):
            extract_dataset(path, tmp_path / "out", ZipLimits())
