"""The container's starting model and checkpoint loads (container/weights.py)."""

from __future__ import annotations

import io
import tarfile
from pathlib import Path

import pytest

from yolo_pipeline.container.weights import (
    WeightsError,
    checkpoint_state,
    safe_load,
    set_aside_unsafe,
    start_model,
)


def _dirs(tmp_path: Path) -> tuple[Path, Path, Path]:
    baked, channel, scratch = tmp_path / "baked", tmp_path / "weights", tmp_path / "scratch"
    baked.mkdir()
    channel.mkdir()
    return baked, channel, scratch


def test_baked_default_per_task(tmp_path: Path) -> None:
    baked, channel, scratch = _dirs(tmp_path)
    (baked / "yolo26n-pose.pt").write_bytes(b"x")
    assert start_model({"task": "pose"}, baked, channel, scratch) == str(baked / "yolo26n-pose.pt")
    with pytest.raises(WeightsError, match="should be baked"):
        start_model({"task": "segment"}, baked, channel, scratch)


def test_architecture_and_channel_file(tmp_path: Path) -> None:
    baked, channel, scratch = _dirs(tmp_path)
    assert start_model({"model": "yolo11n-seg.yaml"}, baked, channel, scratch) == "yolo11n-seg.yaml"
    (channel / "mine.pt").write_bytes(b"x")
    (channel / "mine.pt.bak").write_bytes(b"y")  # shares the S3 prefix: never used
    assert start_model({"model": "mine.pt"}, baked, channel, scratch) == str(channel / "mine.pt")
    with pytest.raises(WeightsError, match="weights' input channel"):
        start_model({"model": "other.pt"}, baked, channel, scratch)


@pytest.mark.parametrize(
    "model",
    ["/opt/ml/input/data/dataset/evil.pt", "weights/evil.pt", "../evil.pt", "custom.yaml"],
)
def test_nothing_from_the_dataset_channel(tmp_path: Path, model: str) -> None:
    baked, channel, scratch = _dirs(tmp_path)
    with pytest.raises(WeightsError):
        start_model({"model": model}, baked, channel, scratch)


def _tar(path: Path, members: dict[str, bytes], link: str | None = None) -> None:
    with tarfile.open(path, "w:gz") as tar:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
        if link:
            info = tarfile.TarInfo("best.pt")
            info.type = tarfile.SYMTYPE
            info.linkname = link
            tar.addfile(info)


def test_best_pt_from_an_earlier_job(tmp_path: Path) -> None:
    baked, channel, scratch = _dirs(tmp_path)
    _tar(channel / "model.tar.gz", {"best.pt": b"ckpt", "../../escape.txt": b"no"})
    path = Path(start_model({"model": "job:yolo-a-1"}, baked, channel, scratch))
    assert path.read_bytes() == b"ckpt" and path.parent == scratch
    assert not (tmp_path / "escape.txt").exists()


def test_a_linked_best_pt_is_refused(tmp_path: Path) -> None:
    baked, channel, scratch = _dirs(tmp_path)
    _tar(channel / "model.tar.gz", {}, link="/etc/passwd")
    with pytest.raises(WeightsError, match=r"no best\.pt"):
        start_model({"model": "job:yolo-a-1"}, baked, channel, scratch)


class _Planted:
    """Unpickling this runs code: it touches a marker file."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple[object, tuple[str]]:
        return (Path.touch, (str(self.marker),))


def test_a_planted_pickle_never_runs(tmp_path: Path) -> None:
    torch = pytest.importorskip("torch")
    marker = tmp_path / "ran"
    weights = tmp_path / "run" / "weights"
    weights.mkdir(parents=True)
    torch.save({"epoch": 1, "model": _Planted(marker)}, weights / "last.pt")
    (weights / "best.pt").write_bytes(b"not a checkpoint")
    assert safe_load(weights / "last.pt") is None
    assert checkpoint_state(weights / "last.pt") == ("corrupt", -1)
    moved = set_aside_unsafe(weights)
    assert len(moved) == 2 and not list(weights.glob("*.pt"))
    assert not marker.exists()
