"""training.yaml: train arguments and the sagemaker section, each problem on its line."""

from __future__ import annotations

import dataclasses

import pytest

from yolo_pipeline.local.placeholders import placeholder_settings
from yolo_pipeline.training.config import SageMakerOptions, parse_training_config

SETTINGS = dataclasses.replace(
    placeholder_settings("yolo"),
    allowed_instance_types=("ml.g4dn.xlarge", "ml.g5.xlarge"),
    max_runtime_seconds=12 * 3600,
)
DEFAULTS = SageMakerOptions("ml.g4dn.xlarge", True, 12 * 3600, 50, "File")


@pytest.mark.parametrize("text", [None, "", "# only a comment\n", b"---\n"])
def test_absent_or_empty_file_means_stack_defaults(text: str | bytes | None) -> None:
    config = parse_training_config(text, SETTINGS)
    assert config.valid and config.train_args == {} and config.sagemaker == DEFAULTS


def test_good_override() -> None:
    config = parse_training_config(
        "epochs: 50\nbatch: 32\nsagemaker:\n  instance_type: ml.g5.xlarge\n  spot: false\n"
        "  max_runtime_hours: 1.5\n  volume_size_gb: 100\n  input_mode: FastFile\n"
        "  instance_count: 1\n",
        SETTINGS,
    )
    assert config.errors == []
    assert config.train_args == {"epochs": 50, "batch": 32}
    assert config.sagemaker == SageMakerOptions("ml.g5.xlarge", False, 5400, 100, "FastFile")


@pytest.mark.parametrize(
    ("text", "line", "field", "words"),
    [
        ("epochs: 5\nepoks: 3\n", 2, "epoks", "did you mean epochs"),
        ("epochs: many\n", 1, "epochs", "whole number"),
        ("data: other.yaml\n", 1, "data", "remove 'data'"),
        ("project: /tmp\n", 1, "project", "remove 'project'"),
        ("sagemaker:\n  instance_type: ml.p5.48xlarge\n", 2, "sagemaker.instance_type", "ml.g5"),
        ("sagemaker:\n  instance_count: 2\n", 2, "sagemaker.instance_count", "multi-node"),
        ("sagemaker:\n  max_runtime_hours: 13\n", 2, "sagemaker.max_runtime_hours", "12"),
        ("sagemaker:\n  max_runtime_hours: -1\n", 2, "sagemaker.max_runtime_hours", "positive"),
        ("sagemaker:\n  spot: maybe\n", 2, "sagemaker.spot", "true or false"),
        ("sagemaker:\n  volume_size_gb: 0\n", 2, "sagemaker.volume_size_gb", "1 to 16384"),
        ("sagemaker:\n  input_mode: Pipe\n", 2, "sagemaker.input_mode", "FastFile"),
        ("sagemaker:\n  instance: ml.g5.xlarge\n", 2, "sagemaker.instance", "instance_type"),
        ("sagemaker: fast\n", 1, "sagemaker", "mapping"),
        ("epochs: 5\nepochs: 6\n", 2, "epochs", "set twice"),
    ],
)
def test_each_problem_names_line_field_and_fix(
    text: str, line: int, field: str, words: str
) -> None:
    config = parse_training_config(text, SETTINGS)
    assert not config.valid
    match = [f for f in config.errors if f.field == field]
    assert match, config.errors
    assert match[0].file == "training.yaml" and match[0].line == line
    assert words in str(match[0])


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("epochs: [1\n", "not valid YAML"),
        ("- epochs\n", "mapping"),
        ("!!python/object:os.system x\n", "not valid YAML"),
        (b"\xff\xfe", "UTF-8"),
        ("x: " + "y" * 70_000, "larger than 64 KiB"),
    ],
)
def test_unreadable_files_are_errors_not_crashes(text: str | bytes, words: str) -> None:
    config = parse_training_config(text, SETTINGS)
    assert not config.valid and words in config.errors[0].message


def test_a_model_path_is_an_error_on_its_line() -> None:
    config = parse_training_config("epochs: 3\nmodel: weights/x.pt\n", SETTINGS)
    assert not config.valid and not config.warnings
    assert config.errors[0].field == "model" and config.errors[0].line == 2
