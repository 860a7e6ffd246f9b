"""The pure parts of `predict`, `approve` and the demo's serving stage."""

from __future__ import annotations

from pathlib import Path

import pytest

from yolo_pipeline.cli.approve import choose, dataset_group
from yolo_pipeline.cli.main import build_parser
from yolo_pipeline.cli.predict import resolve_endpoint, split_arguments
from yolo_pipeline.errors import UsageError
from yolo_pipeline.serving.demo_stage import label_rows, truth_lines, validation_image
from yolo_pipeline.serving.display import MAX_ROWS, prediction_lines

pytestmark = pytest.mark.unit


def test_images_and_options_are_told_apart(tmp_path: Path) -> None:
    image = tmp_path / "a.jpg"
    image.write_bytes(b"x")
    images, options = split_arguments([str(image), "conf=0.4", "imgsz=320"])
    assert images == [image] and options == {"conf": 0.4, "imgsz": 320}
    with pytest.raises(UsageError, match="conf"):
        split_arguments([str(image), "conf=4"])
    with pytest.raises(UsageError, match="no such image"):
        split_arguments([str(tmp_path / "missing.jpg")])
    with pytest.raises(UsageError, match="at least one image"):
        split_arguments(["conf=0.3"])


def test_a_dataset_name_or_uri_names_its_group() -> None:
    assert dataset_group("pets", "yolo") == "yolo-pets"
    assert dataset_group("cats.zip", "yolo") == "yolo-cats"
    assert dataset_group("team/cats", "yolo") == "yolo-team-cats"
    assert dataset_group("s3://b/datasets/team/Cats/", "yolo") == "yolo-team-cats"
    assert dataset_group("s3://b/datasets/cats.zip", "yolo") == "yolo-cats"
    assert dataset_group("datasets/team/cats/data.yaml", "yolo") == "yolo-team-cats"
    assert dataset_group("uploads/cats.zip", "ml", "uploads/") == "ml-cats"


def test_a_dataset_name_or_uri_names_its_endpoint() -> None:
    assert resolve_endpoint("pets", "yolo") == "yolo-pets"
    assert resolve_endpoint("s3://b/datasets/team/Cats/", "yolo") == "yolo-team-cats"
    assert resolve_endpoint("team/cats", "yolo") == "yolo-team-cats"
    assert resolve_endpoint("cats.zip", "yolo") == "yolo-cats"
    assert resolve_endpoint("datasets/cats.zip", "yolo") == "yolo-cats"


def test_a_name_is_an_endpoint_only_when_no_dataset_has_it_and_an_endpoint_does() -> None:
    groups = {"yolo-pets", "yolo-yolo-pets"}
    endpoints = {"yolo-pets", "yolo-yolo-pets", "my-endpoint"}

    def resolve(target: str) -> str:
        return resolve_endpoint(
            target, "yolo", group_exists=groups.__contains__, endpoint_exists=endpoints.__contains__
        )

    assert resolve("my-endpoint") == "my-endpoint"  # no dataset group yolo-my-endpoint
    assert resolve("yolo-pets") == "yolo-yolo-pets"  # a dataset named yolo-pets wins
    groups.discard("yolo-yolo-pets")
    assert resolve("yolo-pets") == "yolo-pets"  # no such dataset: the endpoint of that name
    assert resolve("unknown") == "yolo-unknown"  # neither: the dataset's, for a clear error
    assert resolve("team/my-endpoint") == "yolo-team-my-endpoint"  # a path is a dataset
    arn = "arn:aws:sagemaker:us-east-1:123456789012:endpoint/anything"
    assert resolve(arn) == "anything"


def test_approve_takes_the_newest_or_the_named_version() -> None:
    summaries = [{"ModelPackageVersion": 3}, {"ModelPackageVersion": 2}]
    assert choose(summaries, None) == summaries[0]
    assert choose(summaries, 2) == summaries[1]
    assert choose(summaries, 9) is None and choose([], None) is None


def test_the_commands_are_registered() -> None:
    parser = build_parser()
    assert parser.parse_args(["serve", "run", "--port", "9000"]).port == 9000
    args = parser.parse_args(["predict", "--local", "http://h:1", "a.jpg", "--json"])
    assert args.local == "http://h:1" and args.items == ["a.jpg"] and args.json
    assert parser.parse_args(["approve", "pets", "--version", "2"]).version == 2


def test_prediction_lines_show_each_object_and_cap_the_table() -> None:
    objects = [{"class_id": 0, "name": "cat\x1b[31m", "confidence": 0.9, "box": [1, 2, 3, 4]}] * (
        MAX_ROWS + 5
    )
    lines = prediction_lines(
        "x.jpg", {"task": "detect", "width": 8, "height": 6, "objects": objects}
    )
    assert lines[0] == f"x.jpg (8x6, detect): {MAX_ROWS + 5} object(s)"
    assert "[1.0, 2.0, 3.0, 4.0]" in lines[2] and "\x1b" not in "".join(lines)
    assert lines[-1].startswith("  ... and 5 more")
    top = prediction_lines("y.jpg", {"task": "classify", "objects": [],
                                     "top5": [{"name": "dog", "confidence": 0.8}]})  # fmt: skip
    assert "dog" in top[-1] and "0.800" in top[-1]


def test_ground_truth_rows_become_pixel_boxes(tmp_path: Path) -> None:
    images = tmp_path / "images" / "val"
    labels = tmp_path / "labels" / "val"
    images.mkdir(parents=True)
    labels.mkdir(parents=True)
    (images / "b.jpg").write_bytes(b"x")
    (images / "a.jpg").write_bytes(b"x")
    (labels / "a.txt").write_text("1 0.5 0.5 0.5 0.25\nbad row\n", encoding="utf-8")
    image = validation_image(tmp_path)
    assert image.name == "a.jpg"
    rows = label_rows(image)
    assert rows == [[1.0, 0.5, 0.5, 0.5, 0.25]]
    lines = truth_lines(rows, {"names": ["cat", "dog"], "width": 200, "height": 100})
    assert lines[0] == "ground truth: 1 object(s)"
    assert "dog" in lines[2] and "[50.0, 37.5, 150.0, 62.5]" in lines[2]
