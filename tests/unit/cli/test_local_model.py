"""Local mode's model choice offline (local/model.py) and the label-scan record."""

from __future__ import annotations

from pathlib import Path

from yolo_pipeline.container.label_scan import ScanRecord, corrupt_pairs
from yolo_pipeline.local.model import choose_local_model
from yolo_pipeline.training.tasks import requested_in_training_yaml


def test_missing_pretrained_weights_fall_back_to_the_architecture(tmp_path: Path) -> None:
    chosen = choose_local_model(None, "segment", tmp_path)
    assert chosen.model == "yolo26n-seg.yaml" and not chosen.problem
    assert "yolo26n-seg.pt are not in" in chosen.warning and str(tmp_path) in chosen.warning


def test_weights_on_the_machine_are_used(tmp_path: Path) -> None:
    (tmp_path / "yolo11s-pose.pt").write_bytes(b"x")
    (tmp_path / "mine.pt").write_bytes(b"x")
    assert choose_local_model("yolo11s-pose.pt", "pose", tmp_path).model == "yolo11s-pose.pt"
    own = choose_local_model("mine.pt", "detect", tmp_path)
    assert own.model == "mine.pt" and own.weights_file == tmp_path / "mine.pt"


def test_unusable_models_are_problems(tmp_path: Path) -> None:
    assert "not in" in choose_local_model("other.pt", "detect", tmp_path).problem
    assert "offline" in choose_local_model("job:yolo-a-1", "detect", tmp_path).problem
    assert choose_local_model("../x.pt", "detect", tmp_path).problem
    assert choose_local_model("yolo11n.yaml", "detect", tmp_path).model == "yolo11n.yaml"


def test_requested_in_training_yaml() -> None:
    assert requested_in_training_yaml(b"task: pose\nmodel: yolo11s.pt\n") == ("pose", "yolo11s.pt")
    assert requested_in_training_yaml(b"epochs: [") == (None, None)
    assert requested_in_training_yaml(None) == (None, None)
    assert requested_in_training_yaml(b"- a list\n") == (None, None)


def test_corrupt_pairs_from_ultralytics_messages() -> None:
    record = ScanRecord(
        [
            "/ds/images/train/a b.jpg: ignoring corrupt image/label: cannot identify image",
            "/ds/images/train/x.jpg: 1 duplicate labels removed",
            "/ds/images/train/a b.jpg: ignoring corrupt image/label: again",
        ]
    )
    pairs = corrupt_pairs(record)
    assert [str(p) for p, _ in pairs] == ["/ds/images/train/a b.jpg"]


def test_any_pt_of_the_users_on_this_machine_is_its_weights_channel(tmp_path: Path) -> None:
    best = tmp_path / "runs" / "best.pt"
    best.parent.mkdir()
    best.write_bytes(b"not read here: the training image loads it weights-only")
    chosen = choose_local_model(str(best), "detect", tmp_path / "weights")
    assert (chosen.model, chosen.weights_file, chosen.problem) == ("best.pt", best, "")
    assert "not a file" in choose_local_model(str(tmp_path / "nope.pt"), "detect", tmp_path).problem
    baked_name = tmp_path / "runs" / "yolo26n.pt"
    baked_name.write_bytes(b"x")
    assert "rename it" in choose_local_model(str(baked_name), "detect", tmp_path).problem
