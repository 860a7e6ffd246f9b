"""train.py trains for real on a generated dataset in a SageMaker-shaped folder.

One 15-epoch run (module fixture) backs (a) model/ contents and metric lines, (b) learning,
(d2) corrupt-image reporting and (e) the ONNX export.
"""

from __future__ import annotations

import json
import re

import numpy as np
import pytest

from tests.support.training_run import FAST_ARGS, SageMakerRun, run_train, sagemaker_layout
from yolo_pipeline.training.metric_line import METRIC_DEFINITIONS, METRIC_NAMES, parse_metric_lines

# 15 epochs end right at the jump (mAP50 ~0.65 on this sample); 20 reach ~0.82: margin over
# the 0.5 bar on a CPU whose float rounding differs from this one.
EPOCHS = 20
CORRUPT = {"images/train/broken.jpg": b"this is not a jpeg", "images/train/cut.png": b"\x89PNG\r\n"}


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> SageMakerRun:
    run = sagemaker_layout(
        tmp_path_factory.mktemp("sm") / "opt-ml",
        {**FAST_ARGS, "epochs": EPOCHS, "plots": True, "export": "onnx"},
    )
    for name, content in CORRUPT.items():  # Ultralytics would drop these without a word
        (run.dataset / name).write_bytes(content)
        label = (run.dataset / name.replace("images/", "labels/")).with_suffix(".txt")
        label.write_text("0 0.5 0.5 0.2 0.2\n", encoding="utf-8")
    run_train(run)
    assert run.returncode == 0, run.log[-4000:]
    return run


def test_a_model_folder_holds_everything(trained: SageMakerRun) -> None:
    names = {p.name for p in trained.model.iterdir()}
    assert {"best.pt", "last.pt", "results.csv", "args.yaml", "metrics.json", "best.onnx"} <= names
    assert any(n.endswith(".png") for n in names), names  # Ultralytics' plots (results.png, ...)
    assert not trained.failure.exists()

    import torch

    last = torch.load(trained.model / "last.pt", map_location="cpu", weights_only=False)
    assert last["optimizer"] is None  # stripped: small, and not mistaken for a resumable run
    metrics = json.loads((trained.model / "metrics.json").read_text())
    assert metrics["epochs_run"] == EPOCHS
    assert metrics["class_names"] == ["square", "circle", "triangle"]
    assert 1 <= metrics["best_epoch"] <= EPOCHS
    assert set(metrics["final"]) >= {"val:precision", "val:recall", "val:mAP50", "val:mAP50-95"}
    assert metrics["dataset"]["images"] == {"train": 64 + len(CORRUPT), "val": 16}
    # the run folder (synced to S3 as checkpoints) lives under checkpoints/
    assert (trained.checkpoints / "run" / "weights" / "best.pt").exists()


def test_a_metric_lines_parse_with_the_metric_definitions(trained: SageMakerRun) -> None:
    rows = parse_metric_lines(trained.log)
    # one line per epoch, then best.pt's final validation, which names best_epoch
    epochs, final = rows[:-1], rows[-1]
    assert [int(r["epoch"]) for r in epochs] == list(range(1, EPOCHS + 1))
    assert set(epochs[-1]) == set(METRIC_NAMES) - {"best_epoch"}
    assert int(final["epoch"]) == EPOCHS and "best_epoch" in final
    for definition in METRIC_DEFINITIONS:
        found = re.findall(definition["Regex"], trained.log)
        name = definition["Name"]
        expected = 1 if name == "best_epoch" else EPOCHS + (name in final)
        assert len(found) == expected, definition  # as SageMaker scrapes it
        last = final if name in final else epochs[-1]  # SageMaker keeps the last value
        assert float(found[-1]) == pytest.approx(last[name])


def test_b_it_learns(trained: SageMakerRun) -> None:
    metrics = json.loads((trained.model / "metrics.json").read_text())
    assert metrics["final"]["val:mAP50"] >= 0.5, metrics["final"]
    assert max(r["val:mAP50"] for r in parse_metric_lines(trained.log)) >= 0.5


def test_d2_corrupt_images_are_counted_and_named(trained: SageMakerRun) -> None:
    dataset = json.loads((trained.model / "metrics.json").read_text())["dataset"]
    assert dataset["corrupt_images"] == len(CORRUPT)
    listed = " ".join(dataset["corrupt_files"])
    for name in CORRUPT:
        assert name in listed
        assert name in trained.log
    assert re.search(r"2 corrupt image/label file\(s\)", trained.log)
    assert all("unreadable image" in line for line in dataset["corrupt_files"])
    assert "pi_heif" not in listed  # the reason is about the file, not a missing decoder


def test_e_onnx_export_runs_in_onnxruntime(trained: SageMakerRun) -> None:
    import onnxruntime as ort

    session = ort.InferenceSession(
        str(trained.model / "best.onnx"), providers=["CPUExecutionProvider"]
    )
    (inp,) = session.get_inputs()
    assert inp.shape[-2:] == [FAST_ARGS["imgsz"], FAST_ARGS["imgsz"]]
    image = np.random.default_rng(0).random((1, 3, FAST_ARGS["imgsz"], FAST_ARGS["imgsz"]))
    (out,) = session.run(None, {inp.name: image.astype(np.float32)})
    assert out.shape[0] == 1 and out.shape[1] == 4 + 3  # xywh + one score per class
    assert np.isfinite(out).all()
