"""The zip reader: ranged reads, coalescing, the central directory, ZIP64, hostile archives."""

from __future__ import annotations

import io
import tracemalloc
import zipfile
import zlib

import pytest

from tests.support.zip_factory import (
    UNIX_FIFO,
    UNIX_LINK,
    Raw,
    build_zip,
    zeros_deflate,
    zip_files,
)
from yolo_pipeline.dataset.storage.base import FileTooLargeError
from yolo_pipeline.dataset.storage.zip_reader import (
    ArchiveError,
    ZipArchive,
    ZipEntry,
    ZipLimits,
    find_dataset_root,
    plan_ranges,
    read_central_directory,
)


class Recorder:
    """``read_range`` over bytes, remembering every range asked for."""

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.ranges: list[tuple[int, int]] = []

    def __call__(self, start: int, end: int) -> bytes:
        self.ranges.append((start, end))
        return self.data[start:end]

    @property
    def fetched(self) -> int:
        return sum(e - s for s, e in self.ranges)


def open_archive(data: bytes, limits: ZipLimits | None = None) -> tuple[ZipArchive, Recorder]:
    rec = Recorder(data)
    return ZipArchive(rec, len(data), limits or ZipLimits()), rec


def refusal(data: bytes, limits: ZipLimits | None = None) -> ArchiveError:
    with pytest.raises(ArchiveError) as info:
        open_archive(data, limits)
    return info.value


FILES = {
    "data.yaml": b"train: images/train\nval: images/train\nnames: [a]\n",
    "images/train/a.jpg": bytes(range(256)) * 40,
    "labels/train/a.txt": b"0 0.5 0.5 0.1 0.1\n",
    "labels/train/b.txt": b"",
}


# --------------------------------------------------------------------------- reading


def test_reads_what_the_standard_library_writes() -> None:
    archive, _ = open_archive(zip_files(FILES, stored=(".jpg",)))
    assert {e.name for e in archive.files()} == set(FILES)
    for name, data in FILES.items():
        assert archive.read(name) == data


def test_the_test_builder_writes_archives_the_standard_library_reads() -> None:
    for zip64 in (False, True):
        data = build_zip([Raw(n, d) for n, d in FILES.items()], zip64=zip64)
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            assert zf.testzip() is None
            assert {n: zf.read(n) for n in zf.namelist()} == FILES


def test_zip64_records_and_extra_fields_are_read() -> None:
    archive, _ = open_archive(build_zip([Raw(n, d) for n, d in FILES.items()], zip64=True))
    assert archive.read("labels/train/a.txt") == FILES["labels/train/a.txt"]
    assert archive.by_name["images/train/a.jpg"].size == len(FILES["images/train/a.jpg"])


def test_an_archive_comment_is_skipped() -> None:
    data = build_zip([Raw(n, d) for n, d in FILES.items()], comment=b"x" * 10_000)
    archive, _ = open_archive(data)
    assert archive.read("data.yaml") == FILES["data.yaml"]


def test_the_central_directory_costs_one_tail_read_for_a_small_archive() -> None:
    data = zip_files(FILES)
    rec = Recorder(data)
    directory = read_central_directory(rec, len(data))
    assert len(directory.entries) == len(FILES)
    assert rec.ranges == [(max(0, len(data) - 4096), len(data))]


def test_labels_are_read_in_coalesced_ranges_and_images_are_never_fetched() -> None:
    files = {f"images/{i:04}.jpg": bytes([i % 251]) * 50_000 for i in range(40)}
    files |= {f"labels/{i:04}.txt": f"0 0.5 0.5 0.{i % 9 + 1} 0.1\n".encode() for i in range(40)}
    data = zip_files(files, stored=(".jpg",))
    archive, rec = open_archive(data)
    rec.ranges.clear()
    labels = sorted(n for n in files if n.endswith(".txt"))
    read = dict(kv for span in archive.spans(labels) for kv in archive.read_span(span))
    assert read == {n: files[n] for n in labels}
    assert len(rec.ranges) == 1  # the labels sit together: one read
    assert rec.fetched < len(data) * 0.05
    images = [(e.offset, e.end) for e in archive.files() if e.name.endswith(".jpg")]
    assert not any(s < ie and is_ < e for s, e in rec.ranges for is_, ie in images)


def _entry(offset: int, end: int) -> ZipEntry:
    return ZipEntry(f"e{offset}", offset, end - offset - 40, 1, 8, 0, end)


def test_plan_ranges_merges_neighbours_within_the_gap_and_the_span_cap() -> None:
    entries = [_entry(0, 100), _entry(100, 200), _entry(1000, 1100), _entry(5000, 5100)]
    spans = plan_ranges(entries, max_gap=900, max_span=10_000)
    assert [(s.start, s.end, len(s.entries)) for s in spans] == [(0, 1100, 3), (5000, 5100, 1)]
    capped = plan_ranges(entries, max_gap=10_000, max_span=1000)
    assert [(s.start, s.end) for s in capped] == [(0, 200), (1000, 1100), (5000, 5100)]
    assert plan_ranges([]) == []


def test_the_dataset_root_is_the_archive_root_or_its_single_top_folder() -> None:
    assert find_dataset_root(["data.yaml", "images/a.jpg"]) == ""
    assert find_dataset_root(["set/", "set/data.yaml", "set/x", "__MACOSX/set/._x"]) == "set/"
    assert find_dataset_root(["a/data.yaml", "b/x"]) is None
    assert find_dataset_root(["a/b/data.yaml"]) is None


def test_read_refuses_a_file_over_max_bytes_before_reading_it() -> None:
    archive, rec = open_archive(zip_files(FILES))
    rec.ranges.clear()
    with pytest.raises(FileTooLargeError):
        archive.read("images/train/a.jpg", max_bytes=100)
    assert rec.ranges == []


# --------------------------------------------------------------------------- hostile archives


@pytest.mark.parametrize(
    ("name", "why"),
    [
        ("../evil.txt", "escapes the archive root"),
        ("labels/../../evil.txt", "escapes the archive root"),
        ("/etc/passwd", "absolute"),
        ("C:/x.txt", "absolute"),
        ("labels\\a.txt", "backslashes"),
        ("labels//a.txt", "plain relative"),
        ("a\x01.txt", "control characters"),
    ],
)
def test_names_escaping_the_root_are_refused(name: str, why: str) -> None:
    err = refusal(build_zip([Raw("data.yaml", b"x"), Raw(name, b"y")]))
    assert why in str(err)
    assert err.path == name


@pytest.mark.parametrize(
    ("raw", "why"),
    [
        (Raw("link.txt", b"/etc/passwd", attrs=UNIX_LINK), "symbolic link"),
        (Raw("fifo", b"", attrs=UNIX_FIFO), "special file"),
        (Raw("secret.txt", b"x", flags=0x801), "encrypted"),
        (Raw("strong.txt", b"x", flags=0x841), "encrypted"),
        (Raw("aes.txt", b"x", method=99), "encrypted"),
        (Raw("bz.txt", b"x", method=12, payload=b"x"), "compression method 12"),
    ],
)
def test_links_special_encrypted_and_unknown_entries_are_refused(raw: Raw, why: str) -> None:
    err = refusal(build_zip([Raw("data.yaml", b"x"), raw]))
    assert why in str(err)
    assert err.path == raw.name


def test_duplicate_names_are_refused() -> None:
    assert "twice" in str(refusal(build_zip([Raw("a.txt", b"1"), Raw("a.txt", b"2")])))


def test_too_many_entries_are_refused_from_the_end_record() -> None:
    data = build_zip([Raw(f"{i}.txt", b"x") for i in range(6)])
    assert "6 entries" in str(refusal(data, ZipLimits(max_entries=5)))


def test_declared_sizes_beyond_the_limits_are_refused_per_entry_and_in_total() -> None:
    data = build_zip([Raw("a.txt", b"x" * 100), Raw("b.txt", b"x" * 100)])
    assert "limit per file" in str(refusal(data, ZipLimits(max_entry_bytes=99)))
    assert "in total" in str(refusal(data, ZipLimits(max_total_bytes=150)))


def test_a_huge_central_directory_is_refused_before_it_is_read() -> None:
    data = build_zip([Raw(f"{i}.txt", b"x") for i in range(50)])
    rec = Recorder(data)
    with pytest.raises(ArchiveError, match="central directory"):
        ZipArchive(rec, len(data), ZipLimits(max_central_directory_bytes=100))
    assert len(rec.ranges) == 1  # the tail only


def test_overlapping_entries_are_refused() -> None:
    # Two central entries pointing into the same data: the 'better zip bomb' layout.
    data = build_zip([Raw("a.txt", b"a" * 50), Raw("b.txt", b"b" * 50, offset_delta=-40)])
    assert "overlaps" in str(refusal(data))


def test_a_label_of_3_gib_of_zeros_is_refused_from_its_declared_size() -> None:
    bomb = zeros_deflate(3)
    data = build_zip([Raw("data.yaml", b"x"), Raw("labels/a.txt", payload=bomb, size=3 << 30)])
    err = refusal(data)
    assert "zip bomb" in str(err) and err.path == "labels/a.txt"


def test_a_label_of_3_gib_of_zeros_under_a_lying_header_stops_at_the_declared_size() -> None:
    bomb = zeros_deflate(3)
    data = build_zip([Raw("data.yaml", b"x"), Raw("labels/a.txt", payload=bomb, size=20, crc=0)])
    archive, _ = open_archive(data)  # 20 bytes declared: nothing to refuse yet
    tracemalloc.start()
    try:
        with pytest.raises(ArchiveError, match="beyond its declared 20 bytes"):
            archive.read("labels/a.txt")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < len(bomb) + 16 * 1024 * 1024  # the compressed span and one 1 MiB step


def test_corrupt_and_truncated_entries_are_refused_when_read() -> None:
    good = zlib.compress(b"hello world", 6)[2:-4]
    bad_crc = build_zip([Raw("a.txt", b"hello world", crc=1)])
    with pytest.raises(ArchiveError, match="CRC"):
        open_archive(bad_crc)[0].read("a.txt")
    short = build_zip([Raw("a.txt", b"hello world", payload=good[:4])])
    with pytest.raises(ArchiveError, match=r"truncated|corrupt"):
        open_archive(short)[0].read("a.txt")
    longer = build_zip([Raw("a.txt", b"hello world", size=100)])
    with pytest.raises(ArchiveError, match="truncated"):
        open_archive(longer)[0].read("a.txt")


def test_not_a_zip_and_split_archives_are_refused() -> None:
    assert "not a zip" in str(refusal(b"hello" * 2000))
    assert "not a zip" in str(refusal(b""))
    data = bytearray(build_zip([Raw("a.txt", b"x")]))
    data[-18:-16] = b"\x01\x00"  # "number of this disk"
    assert "split" in str(refusal(bytes(data)))
