"""One reading of a zip: the launcher's ranged reader and the container's extractor find the
root, the names and the entries by the same code, so they accept and refuse the same archives."""

from __future__ import annotations

import shutil
import struct
import subprocess
import zlib
from pathlib import Path

import pytest

from tests.support.dataset_factory import detect_dataset
from tests.support.zip_factory import Raw, build_zip, zip_files
from yolo_pipeline.container.zip_extract import extract_dataset
from yolo_pipeline.dataset.storage.zip_names import MAX_NAME_PART_BYTES
from yolo_pipeline.dataset.storage.zip_reader import ArchiveError, ZipArchive
from yolo_pipeline.dataset.storage.zip_storage import LocalZipFile, ZipStorage
from yolo_pipeline.dataset.validation import Report, validate_dataset

UNIX_DIR = 0o40755 << 16


def _dataset_entries(top: str = "") -> list[Raw]:
    return [Raw(top + name, data) for name, data in sorted(detect_dataset().items())]


def _both(tmp_path: Path, archive: bytes) -> tuple[Report, Path | ArchiveError]:
    """The launcher's verdict and the container's result for one archive."""
    path = tmp_path / "ds.zip"
    path.write_bytes(archive)
    report = validate_dataset(ZipStorage(LocalZipFile(path)))
    try:
        extracted: Path | ArchiveError = extract_dataset(path, tmp_path / "out")
    except ArchiveError as exc:
        extracted = exc
    return report, extracted


def _files_under(root: Path) -> set[str]:
    return {p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file()}


def test_an_empty_folder_entry_beside_the_top_folder_is_read_alike(tmp_path: Path) -> None:
    entries = [Raw("empty/", attrs=UNIX_DIR), *_dataset_entries("shapes/")]
    report, extracted = _both(tmp_path, build_zip(entries))
    assert report.valid, report.render_text()
    assert isinstance(extracted, Path)
    assert extracted.name == "shapes"
    listed = {f.path for f in ZipStorage(LocalZipFile(tmp_path / "ds.zip")).list_files()}
    assert _files_under(extracted) == listed == set(detect_dataset())


@pytest.mark.parametrize(
    ("extra", "why"),
    [
        ([Raw("images/train"), Raw("images/train/x.jpg", b"x")], "both a file and a folder"),
        ([Raw("labels/val/", attrs=UNIX_DIR)], ""),  # a plain folder entry: fine
        ([Raw("labels/train/zzz.txt/", attrs=UNIX_DIR)], "named like a label"),
        ([Raw("notes/" + "n" * (MAX_NAME_PART_BYTES + 1) + ".txt", b"x")], "over 255 bytes"),
    ],
    ids=["file-and-folder", "folder-entry", "folder-like-label", "long-name-part"],
)
def test_both_sides_refuse_the_same_entries(tmp_path: Path, extra: list[Raw], why: str) -> None:
    report, extracted = _both(tmp_path, build_zip(_dataset_entries() + extra))
    if not why:
        assert report.valid, report.render_text()
        assert isinstance(extracted, Path)
        return
    assert not report.valid
    assert any(why in f.message for f in report.errors), report.render_text()
    assert isinstance(extracted, ArchiveError)
    assert why in str(extracted)
    assert not (tmp_path / "out").exists()  # refused before anything is written


def _unicode_path_field(stored: bytes, name: str, crc: int | None = None) -> bytes:
    body = struct.pack("<BL", 1, zlib.crc32(stored) if crc is None else crc)
    body += name.encode("utf-8")
    return struct.pack("<2H", 0x7075, len(body)) + body


def test_the_unicode_path_field_names_the_entry() -> None:
    stored = "fotos_ñ/data.yaml".encode("cp437")
    field = _unicode_path_field(stored, "fotos_ñ/data.yaml")
    archive = build_zip([Raw("x", b"names: [a]\n", flags=0, name_bytes=stored, extra_field=field)])
    zf = ZipArchive(lambda a, b: archive[a:b], len(archive))
    assert [e.name for e in zf.files()] == ["fotos_ñ/data.yaml"]


def test_a_unicode_path_field_with_a_wrong_crc_is_ignored() -> None:
    stored = b"fotos_n/data.yaml"
    field = _unicode_path_field(stored, "other/data.yaml", crc=zlib.crc32(b"renamed"))
    archive = build_zip([Raw("x", b"names: [a]\n", flags=0, name_bytes=stored, extra_field=field)])
    zf = ZipArchive(lambda a, b: archive[a:b], len(archive))
    assert [e.name for e in zf.files()] == ["fotos_n/data.yaml"]


@pytest.mark.skipif(shutil.which("zip") is None, reason="Info-ZIP's zip is not installed")
def test_zip_r_of_a_non_ascii_folder_reads_like_the_folder(tmp_path: Path) -> None:
    folder = tmp_path / "src" / "fotos_ñ"
    for name, data in detect_dataset().items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_bytes(data)
    archive = tmp_path / "fotos.zip"
    subprocess.run(
        ["zip", "-qr", str(archive), "fotos_ñ"],
        cwd=folder.parent,
        check=True,
        env={"LC_ALL": "C.UTF-8", "PATH": "/usr/bin:/bin"},
    )
    report, extracted = _both(tmp_path, archive.read_bytes())
    assert report.valid, report.render_text()
    assert isinstance(extracted, Path) and extracted.name == "fotos_ñ"
    assert _files_under(extracted) == set(detect_dataset())


def test_a_zip_written_by_python_still_reads(tmp_path: Path) -> None:
    report, extracted = _both(tmp_path, zip_files(detect_dataset(), top="set/"))
    assert report.valid, report.render_text()
    assert isinstance(extracted, Path) and extracted.name == "set"
