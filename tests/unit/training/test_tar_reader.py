"""The hand-made tar reader: what tarfile writes reads back; links, escapes and oversized
headers are refused before anything is written or allocated."""

from __future__ import annotations

import gzip
import io
import tarfile
import tracemalloc
from pathlib import Path

import pytest

from yolo_pipeline.notifier.job_results import ResultsUnavailable, metrics_json_from_archive
from yolo_pipeline.training.tar_reader import (
    BLOCK,
    MAX_META_BYTES,
    TarReader,
    TarRefused,
    unpack,
)

LONG = "runs/" + "deep/" * 30 + "weights/best.pt"  # over 100 bytes: a long-name header


def _tar(members: list[tarfile.TarInfo | tuple[str, bytes]], fmt: int) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz", format=fmt) as tar:
        for member in members:
            if isinstance(member, tarfile.TarInfo):
                tar.addfile(member)
            else:
                info = tarfile.TarInfo(member[0])
                info.size = len(member[1])
                tar.addfile(info, io.BytesIO(member[1]))
    return buf.getvalue()


def _link(name: str, target: str, kind: bytes = tarfile.SYMTYPE) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.type, info.linkname = kind, target
    return info


def _folder(name: str) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.type = tarfile.DIRTYPE
    return info


@pytest.mark.parametrize("fmt", [tarfile.GNU_FORMAT, tarfile.PAX_FORMAT, tarfile.USTAR_FORMAT])
def test_what_tarfile_writes_unpacks_the_same(tmp_path: Path, fmt: int) -> None:
    files = {"best.pt": b"w" * 5000, "args.yaml": b"epochs: 3\n", "ñame.txt": b""}
    if fmt != tarfile.USTAR_FORMAT:
        files[LONG] = b"long"
    archive = tmp_path / "model.tar.gz"
    archive.write_bytes(_tar([_folder("./"), _folder("runs"), *files.items()], fmt))

    written = unpack(archive, tmp_path / "out")
    assert sorted(written) == sorted(files)
    for name, body in files.items():
        assert (tmp_path / "out" / name).read_bytes() == body


@pytest.mark.parametrize(
    "members",
    [
        [_link("best.pt", "/etc/passwd")],
        [_link("best.pt", "../../outside", tarfile.LNKTYPE)],
        # The CVE-2025-4517 shape: a link to a folder outside, then a file through it.
        [_link("escape", ".."), ("escape/created.txt", b"x")],
        [("../created.txt", b"x")],
        [("/abs.txt", b"x")],
        [("a\\b.txt", b"x")],
        [("x" * 256, b"x")],
        [("twice.txt", b"1"), ("twice.txt", b"2")],
    ],
)
def test_links_escapes_and_clashes_are_refused(
    tmp_path: Path, members: list[tarfile.TarInfo | tuple[str, bytes]]
) -> None:
    archive = tmp_path / "model.tar.gz"
    archive.write_bytes(_tar(members, tarfile.PAX_FORMAT))
    with pytest.raises(TarRefused):
        unpack(archive, tmp_path / "box" / "out")
    assert not (tmp_path / "box" / "created.txt").exists()
    assert not (tmp_path / "created.txt").exists() and not (tmp_path / "abs.txt").exists()
    assert not any(p.is_symlink() for p in (tmp_path / "box").rglob("*"))


def _header(name: bytes, kind: bytes, size: int) -> bytes:
    block = bytearray(BLOCK)
    block[: len(name)] = name
    block[100:108] = b"0000644\0"
    block[124:136] = f"{size:011o}\0".encode()
    block[156:157] = kind
    block[257:263] = b"ustar\0"
    block[263:265] = b"00"
    block[148:156] = b" " * 8
    block[148:156] = f"{sum(block):06o}\0 ".encode()
    return bytes(block)


def _crafted(kind: bytes, body_bytes: int) -> bytes:
    """A .tar.gz whose first header is a metadata header of ``body_bytes`` of zeros."""
    out = io.BytesIO()
    with gzip.GzipFile(fileobj=out, mode="wb", compresslevel=6) as gz:
        gz.write(_header(b"././@PaxHeader", kind, body_bytes))
        left = body_bytes + (-body_bytes % BLOCK)  # the body, padded to whole blocks
        chunk = b"\0" * (1 << 20)
        while left > 0:
            gz.write(chunk[:left])
            left -= min(left, len(chunk))
        gz.write(_header(b"metrics.json", b"0", 2) + b"{}".ljust(BLOCK, b"\0") + b"\0" * 1024)
    return out.getvalue()


@pytest.mark.parametrize("kind", [b"x", b"L"])
def test_an_oversized_header_is_refused_before_it_is_read(kind: bytes) -> None:
    archive = _crafted(kind, 400 * (1 << 20))  # 400 MiB of header body, ~0.4 MiB gzipped
    assert len(archive) < 600 * 1024
    tracemalloc.start()
    try:
        with pytest.raises(ResultsUnavailable, match="header of"):
            metrics_json_from_archive(archive)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 8 * (1 << 20)  # the notifier has 256 MB; tarfile would need the 400 MiB


def test_a_small_metadata_header_is_read() -> None:
    archive = _crafted(b"g", 4096)
    assert MAX_META_BYTES > 4096
    assert metrics_json_from_archive(archive) == b"{}"


def test_a_reader_skips_links_and_reads_files() -> None:
    data = _tar([_link("latest", "best.pt"), ("best.pt", b"abc")], tarfile.GNU_FORMAT)
    reader = TarReader(io.BytesIO(data))
    seen = [(m.name, m.kind) for m in reader.members()]
    assert seen == [("latest", "other"), ("best.pt", "file")]


def test_not_a_tar_is_refused() -> None:
    with pytest.raises(TarRefused):
        list(TarReader(io.BytesIO(gzip.compress(b"hello" * 200))).members())
    with pytest.raises(TarRefused):
        list(TarReader(io.BytesIO(b"not gzip at all")).members())
