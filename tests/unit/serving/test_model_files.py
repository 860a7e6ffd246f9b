"""Finding the weights to serve: only best.pt (or a lone last.pt), never anything else."""

from __future__ import annotations

import io
import tarfile
from pathlib import Path

import pytest

from yolo_pipeline.serving.errors import ModelFileError
from yolo_pipeline.serving.model_files import extract_weights, find_weights

pytestmark = pytest.mark.unit


def make_tar(path: Path, members: dict[str, bytes], links: dict[str, str] | None = None) -> Path:
    with tarfile.open(path, "w:gz") as tar:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
        for name, target in (links or {}).items():
            info = tarfile.TarInfo(name)
            info.type = tarfile.SYMTYPE
            info.linkname = target
            tar.addfile(info)
    return path


@pytest.mark.parametrize("where", ["", "model", "weights"])
def test_best_pt_is_found_in_a_folder_a_workdir_or_a_run(tmp_path: Path, where: str) -> None:
    folder = tmp_path / where
    folder.mkdir(exist_ok=True)
    (folder / "best.pt").write_bytes(b"b")
    (folder / "last.pt").write_bytes(b"l")
    assert find_weights(tmp_path) == folder / "best.pt"


def test_last_pt_serves_only_when_there_is_no_best(tmp_path: Path) -> None:
    (tmp_path / "last.pt").write_bytes(b"l")
    assert find_weights(tmp_path).name == "last.pt"


def test_a_pt_file_is_served_as_given(tmp_path: Path) -> None:
    weights = tmp_path / "mine.pt"
    weights.write_bytes(b"x")
    assert find_weights(weights) == weights


def test_an_archive_gives_only_its_best_pt(tmp_path: Path) -> None:
    archive = make_tar(
        tmp_path / "model.tar.gz",
        {"args.yaml": b"activation: exec('x')", "best.pt": b"BEST", "last.pt": b"LAST",
         "evil.py": b"import os"},
    )  # fmt: skip
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    weights = find_weights(archive, scratch)
    assert weights == scratch / "best.pt" and weights.read_bytes() == b"BEST"
    assert sorted(p.name for p in scratch.iterdir()) == ["best.pt"]


def test_a_workdir_with_only_the_packaged_archive_is_unpacked(tmp_path: Path) -> None:
    (tmp_path / "output").mkdir()
    make_tar(tmp_path / "output" / "model.tar.gz", {"model/best.pt": b"B"})
    assert find_weights(tmp_path).read_bytes() == b"B"


@pytest.mark.parametrize(
    "name", ["../best.pt", "/etc/best.pt", "a/b/c/best.pt", "best.pt.py", "x/../../best.pt"]
)
def test_other_member_names_are_never_taken(tmp_path: Path, name: str) -> None:
    archive = make_tar(tmp_path / "m.tar.gz", {name: b"x"})
    with pytest.raises(ModelFileError, match=r"no best\.pt"):
        extract_weights(archive, tmp_path)


def test_a_link_named_best_pt_is_ignored(tmp_path: Path) -> None:
    archive = make_tar(tmp_path / "m.tar.gz", {}, links={"best.pt": "/etc/passwd"})
    with pytest.raises(ModelFileError, match=r"no best\.pt"):
        extract_weights(archive, tmp_path)


def test_a_folder_without_weights_says_where_it_looked(tmp_path: Path) -> None:
    (tmp_path / "args.yaml").write_text("x")
    with pytest.raises(ModelFileError, match="looked in"):
        find_weights(tmp_path)


def test_a_damaged_archive_or_another_file_is_refused(tmp_path: Path) -> None:
    bad = tmp_path / "model.tar.gz"
    bad.write_bytes(b"not a tar")
    with pytest.raises(ModelFileError, match="not a readable"):
        find_weights(bad, tmp_path)
    other = tmp_path / "best.onnx"
    other.write_bytes(b"x")
    with pytest.raises(ModelFileError, match="neither"):
        find_weights(other)
    with pytest.raises(ModelFileError, match="does not exist"):
        find_weights(tmp_path / "missing")
