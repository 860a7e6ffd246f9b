"""``yolo-pipeline local`` end to end: real validation, request, CPU training, email."""

from __future__ import annotations

import io
import json
import tarfile
from pathlib import Path

import pytest

from yolo_pipeline.cli.local import run_local
from yolo_pipeline.cli.main import main
from yolo_pipeline.errors import DatasetProblem, JobProblem
from yolo_pipeline.local.sample import write_sample_dataset


def test_local_runs_every_stage_with_one_epoch(tmp_path: Path) -> None:
    dataset = write_sample_dataset(tmp_path / "shapes", 16, 4, 96, 1)
    workdir = tmp_path / "run"
    out = io.StringIO()

    code = run_local(dataset, epochs=1, workdir=workdir, out=out)
    text = out.getvalue()

    assert code == 0, text[-3000:]
    stages = [line for line in text.splitlines() if line.startswith("== ")]
    assert [s.split()[1] for s in stages] == ["1/5", "2/5", "3/5", "4/5", "5/5"]
    assert "VALID:" in text
    # The printed request is the launcher's, with the epochs override applied.
    request_json = text.split("placeholder image, role and buckets:\n", 1)[1].split("\n== 3/5")[0]
    request = json.loads(request_json)
    assert request["HyperParameters"]["epochs"] == "1"
    assert request["TrainingJobName"].startswith("yolo-shapes-")
    # The SageMaker layout and the container's outputs, run as the image's entrypoint runs.
    assert "-m yolo_pipeline.container train --sm-root" in text
    hyper = json.loads((workdir / "input" / "config" / "hyperparameters.json").read_text())
    assert hyper == request["HyperParameters"]
    assert (workdir / "input" / "data" / "dataset" / "data.yaml").is_file()
    metrics = json.loads((workdir / "model" / "metrics.json").read_text())
    assert metrics["epochs_run"] == 1
    with tarfile.open(workdir / "output" / "model.tar.gz") as tar:
        assert {"best.pt", "metrics.json"} <= set(tar.getnames())
    assert "YOLO_METRICS epoch=1" in (workdir / "train.log").read_text()
    # The notifier's email, from this run.
    email = (workdir / "email.txt").read_text()
    assert email.startswith("Subject: [yolo] Completed: shapes mAP50-95 ")
    assert "Epochs run: 1 of 1 planned" in email
    assert str(workdir / "output" / "model.tar.gz") in email
    # The user's folder is untouched (Ultralytics writes labels.cache into the copy only).
    assert not list(dataset.rglob("*.cache"))


def test_local_stops_at_validation_with_the_rejection_email(tmp_path: Path) -> None:
    dataset = write_sample_dataset(tmp_path / "shapes", 4, 2, 64, 0)
    (dataset / "labels" / "val" / "val_0001.txt").write_text("9 0.5 0.5 0.2 0.2\n")
    out = io.StringIO()

    with pytest.raises(DatasetProblem, match="would start no job"):
        run_local(dataset, epochs=1, workdir=tmp_path / "run", out=out)

    text = out.getvalue()
    assert "val_0001.txt" in text
    assert "Subject: [yolo] Dataset rejected: shapes" in text
    assert "== 3/5" not in text and not (tmp_path / "run").exists()


def test_failed_training_renders_the_failure_email(tmp_path: Path) -> None:
    dataset = write_sample_dataset(tmp_path / "shapes", 4, 2, 64, 0)
    # Passes validation (images are never decoded there), then the container fails the way a
    # SageMaker job would: output/failure and exit 1. (A missing model is refused before
    # training, so the images are what fails here.)
    (dataset / "training.yaml").write_text("model: yolo11n.yaml\nepochs: 1\n")
    for image in (dataset / "images" / "train").iterdir():
        image.write_bytes(b"not an image")
    out = io.StringIO()

    with pytest.raises(JobProblem, match="training failed"):
        run_local(dataset, workdir=tmp_path / "run", out=out)

    text = out.getvalue()
    assert "Subject: [yolo] Failed: shapes" in text
    assert "No valid images" in text.split("== 4/5", 1)[1]


def test_cli_usage_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["local", str(tmp_path / "nope"), "--epochs", "1"]) == 2
    assert "does not exist" in capsys.readouterr().err
    for argv in (
        ["local", str(tmp_path), "--epochs", "0"],
        ["sample-dataset", str(tmp_path / "s"), "--train", "0"],
    ):
        with pytest.raises(SystemExit) as exc:  # argparse: a usage error
            main(argv)
        assert exc.value.code == 2
        assert "must be at least 1" in capsys.readouterr().err
    (tmp_path / "mine.txt").write_text("keep")
    assert main(["sample-dataset", str(tmp_path)]) == 2  # not empty, not an earlier sample
    assert "not an earlier sample" in capsys.readouterr().err


def test_a_missing_model_is_refused_before_training(tmp_path: Path) -> None:
    dataset = write_sample_dataset(tmp_path / "shapes", 4, 2, 64, 0)
    (dataset / "training.yaml").write_text("model: yolo11x-missing.pt\nepochs: 1\n")
    out = io.StringIO()
    with pytest.raises(DatasetProblem, match=r"model: yolo11x-missing\.pt is not in"):
        run_local(dataset, workdir=tmp_path / "run", out=out)
    assert "== 3/5" not in out.getvalue()
