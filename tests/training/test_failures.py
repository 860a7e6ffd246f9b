"""(d) Bad input fails cleanly: exit 1, one clear paragraph in output/failure, nothing executed."""

from __future__ import annotations

from pathlib import Path

from tests.support.training_run import FAST_ARGS, SageMakerRun, run_train, sagemaker_layout
from yolo_pipeline.dataset.sample import make_shapes_dataset


def _fails(run: SageMakerRun) -> str:
    run_train(run, timeout=300)
    assert run.returncode == 1, run.log[-3000:]
    reason = run.failure.read_text(encoding="utf-8")
    assert 0 < len(reason) <= 1024
    assert "\n" not in reason  # one paragraph
    assert not (run.model / "best.pt").exists()
    return reason


def test_d_missing_val_split(tmp_path: Path) -> None:
    run = sagemaker_layout(tmp_path / "opt-ml", {**FAST_ARGS, "epochs": 1})
    (run.dataset / "data.yaml").write_text(
        "train: images/train\nnames: [square, circle, triangle]\n", encoding="utf-8"
    )
    reason = _fails(run)
    assert reason.startswith("Invalid dataset")
    assert "val" in reason and "data.yaml" in reason


def test_d_val_split_without_images(tmp_path: Path) -> None:
    run = sagemaker_layout(tmp_path / "opt-ml", {**FAST_ARGS, "epochs": 1})
    for image in (run.dataset / "images" / "val").iterdir():
        image.unlink()
    reason = _fails(run)
    assert "val split has no images" in reason and "images/val" in reason


def test_d_unknown_hyperparameter(tmp_path: Path) -> None:
    run = sagemaker_layout(tmp_path / "opt-ml", {**FAST_ARGS, "epoch": 3, "data": "x.yaml"})
    reason = _fails(run)
    assert reason.startswith("Invalid hyperparameters")
    assert "epoch" in reason and "did you mean epochs" in reason
    assert "data" in reason  # owned by the container, refused with its reason


def test_d_download_key_is_never_executed(tmp_path: Path) -> None:
    run = sagemaker_layout(tmp_path / "opt-ml", {**FAST_ARGS, "epochs": 1}, dataset=False)
    make_shapes_dataset(run.dataset, n_train=4, n_val=2)
    marker = tmp_path / "pwned"
    # val points nowhere, the exact case in which Ultralytics would run `download:`.
    (run.dataset / "data.yaml").write_text(
        "train: images/train\nval: images/missing\nnames: [a, b, c]\n"
        f"download: |\n  open({str(marker)!r}, 'w').write('x')\n",
        encoding="utf-8",
    )
    reason = _fails(run)
    assert "download" in reason
    assert not marker.exists()
