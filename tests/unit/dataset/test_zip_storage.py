"""A dataset zip judged exactly like its folder; the root may be one top-level folder."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.support.dataset_factory import Case, corpus, detect_dataset, with_changes, write_local
from tests.support.zip_factory import Raw, build_zip, write_zip
from yolo_pipeline.cli.main import main
from yolo_pipeline.dataset.storage.local import LocalStorage
from yolo_pipeline.dataset.storage.opener import open_location
from yolo_pipeline.dataset.storage.zip_storage import LocalZipFile, ZipStorage
from yolo_pipeline.dataset.validation import validate_dataset, validate_location
from yolo_pipeline.findings import Finding

# A zip may hold the dataset in one top folder: the folder case is invalid, its zip is not.
FOLDER_ONLY = {"nested-upload"}


def texts(findings: list[Finding], location: str) -> list[str]:
    return [str(f).replace(location, "<root>") for f in findings]


@pytest.mark.parametrize(
    "case", [c for c in corpus() if c.name not in FOLDER_ONLY], ids=lambda c: c.name
)
def test_a_zip_gets_the_verdict_of_its_folder(tmp_path: Path, case: Case) -> None:
    folder = validate_dataset(LocalStorage(write_local(tmp_path / "ds", case.files)))
    archive = write_zip(tmp_path / "ds.zip", case.files)
    zipped = validate_location(str(archive))
    assert zipped.valid is case.valid, zipped.render_text()
    assert texts(zipped.errors, str(archive)) == texts(folder.errors, folder.location)
    assert texts(zipped.warnings, str(archive)) == texts(folder.warnings, folder.location)
    assert zipped.stats == folder.stats


def test_the_dataset_may_sit_in_the_archives_single_top_folder(tmp_path: Path) -> None:
    files = detect_dataset()
    archive = write_zip(tmp_path / "export.zip", files, top="shapes/")
    report = validate_location(str(archive))
    assert report.valid, report.render_text()
    assert report.stats.splits["train"].images == 4


def test_findings_name_the_path_inside_the_archive_and_the_line(tmp_path: Path) -> None:
    lbl = "labels/train/train_00000.txt"
    files = with_changes(detect_dataset(), **{lbl: "0 0.5 0.5 0.1 0.1\n7 0.5 0.5 0.1 0.1\n"})
    report = validate_location(str(write_zip(tmp_path / "x.zip", files, top="export/")))
    assert not report.valid
    bad = [f for f in report.errors if f.line is not None]
    assert [(f.file, f.line) for f in bad] == [(f"export/{lbl}", 2)]
    assert report.location == str(tmp_path / "x.zip")


def test_a_hostile_archive_is_one_finding_naming_the_entry(tmp_path: Path) -> None:
    path = tmp_path / "evil.zip"
    path.write_bytes(build_zip([Raw("data.yaml", b"x"), Raw("../../etc/cron.d/x", b"y")]))
    report = validate_location(str(path))
    assert not report.valid
    assert report.errors[0].file == "../../etc/cron.d/x"
    assert "escapes the archive root" in report.errors[0].message


def test_validate_cli_reads_a_zip(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    archive = write_zip(tmp_path / "ds.zip", detect_dataset())
    assert main(["validate", str(archive), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["valid"] is True and out["location"] == str(archive)
    bad = write_zip(tmp_path / "bad.zip", {"data.yaml": b"names: [a]\n"})
    assert main(["validate", str(bad)]) == 1


def test_open_location_gives_a_zip_storage_for_a_zip(tmp_path: Path) -> None:
    archive = write_zip(tmp_path / "ds.ZIP", detect_dataset())
    storage, name = open_location(str(archive))
    assert isinstance(storage, ZipStorage) and name == "data.yaml"
    labels = [f.path for f in storage.list_files() if f.path.endswith(".txt")]
    got = dict(storage.map_read(labels, lambda p, b: b))
    assert got == {p: detect_dataset()[p] for p in labels}


def test_label_reads_are_a_few_ranges(tmp_path: Path) -> None:
    files = detect_dataset(n_train=200, n_val=50)
    source = LocalZipFile(write_zip(tmp_path / "ds.zip", files))
    ranges: list[tuple[int, int]] = []
    read = source.read_range

    def recording(start: int, end: int) -> bytes:
        ranges.append((start, end))
        return read(start, end)

    source.read_range = recording  # type: ignore[method-assign]
    report = validate_dataset(ZipStorage(source))
    assert report.valid, report.render_text()
    assert report.stats.label_files_read == 250
    assert len(ranges) <= 6  # tail, data.yaml, and the labels in coalesced spans


def test_finder_resource_forks_are_not_dataset_files(tmp_path: Path) -> None:
    files = detect_dataset()
    junk = {f"__MACOSX/export/._{p.rsplit('/', 1)[-1]}": b"\x00\x05" for p in files}
    archive = tmp_path / "mac.zip"
    from tests.support.zip_factory import zip_files

    archive.write_bytes(zip_files({**{f"export/{p}": c for p, c in files.items()}, **junk}))
    storage, _ = open_location(str(archive))
    assert not any("__MACOSX" in f.path for f in storage.list_files())
    assert validate_dataset(storage).valid


def test_a_folder_named_like_a_zip_is_a_folder(tmp_path: Path) -> None:
    root = write_local(tmp_path / "odd.zip", detect_dataset())
    storage, _ = open_location(str(root))
    assert isinstance(storage, LocalStorage)


def test_a_file_that_is_not_a_zip_is_named_in_the_finding(tmp_path: Path) -> None:
    fake = tmp_path / "photos.zip"
    fake.write_bytes(b"not a zip at all" * 100)
    report = validate_location(str(fake))
    assert not report.valid
    assert str(report.errors[0]).startswith("photos.zip: is not a zip archive")
