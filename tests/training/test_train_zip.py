"""train.py trains from a channel holding one zip (as the launcher sends a dataset zip)."""

from __future__ import annotations

import json
import shutil
import zipfile
from pathlib import Path

from tests.support.training_run import FAST_ARGS, run_train, sagemaker_layout
from tests.support.zip_factory import Raw, build_zip
from yolo_pipeline.dataset.sample import make_shapes_dataset


def _zip_folder(folder: Path, archive: Path, top: str) -> None:
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zf:
        for path in sorted(folder.rglob("*")):
            if path.is_file():
                zf.write(path, top + path.relative_to(folder).as_posix())


def test_trains_from_a_channel_holding_one_zip(tmp_path: Path) -> None:
    run = sagemaker_layout(tmp_path / "opt-ml", {**FAST_ARGS, "epochs": 1}, dataset=False)
    source = tmp_path / "shapes"
    make_shapes_dataset(source, n_train=16, n_val=8)
    run.dataset.mkdir(parents=True)
    _zip_folder(source, run.dataset / "shapes.zip", top="shapes/")
    run.dataset.chmod(0o555)  # read-only, as a FastFile channel is
    try:
        run_train(run, timeout=600)
    finally:
        run.dataset.chmod(0o755)
    assert run.returncode == 0, run.log[-4000:]
    assert (run.model / "best.pt").is_file()
    metrics = json.loads((run.model / "metrics.json").read_text())
    assert metrics["dataset"]["images"] == {"train": 16, "val": 8}
    assert sorted(p.name for p in run.dataset.iterdir()) == ["shapes.zip"]  # left as it was
    shutil.rmtree(run.root / "unzipped-dataset", ignore_errors=True)


def test_a_hostile_zip_fails_with_a_clear_reason(tmp_path: Path) -> None:
    run = sagemaker_layout(tmp_path / "opt-ml", {**FAST_ARGS, "epochs": 1}, dataset=False)
    run.dataset.mkdir(parents=True)
    body = build_zip([Raw("data.yaml", b"names: [a]\n"), Raw("../../x.txt", b"y")])
    (run.dataset / "evil.zip").write_bytes(body)
    run_train(run, timeout=300)
    assert run.returncode == 1, run.log[-3000:]
    reason = run.failure.read_text(encoding="utf-8")
    assert reason.startswith("The dataset zip is refused")
    assert "escapes the archive root" in reason
    assert not (tmp_path / "x.txt").exists()
