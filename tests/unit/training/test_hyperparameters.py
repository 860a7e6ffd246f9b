"""Hyperparameter decode/encode (SageMaker strings) and checks against the Ultralytics snapshot."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from yolo_pipeline.training.hyperparameters import (
    CONTAINER_KEYS,
    CONTAINER_OWNED_KEYS,
    MAX_VALUE_CHARS,
    check_hyperparameters,
    decode_hyperparameters,
    encode_hyperparameters,
    parse_export,
    valid_keys,
)


def _errors(values: dict[str, Any]) -> dict[str, str]:
    return {
        str(f.field): f"{f.message} -> {f.hint}"
        for f in check_hyperparameters(values)
        if f.severity == "error"
    }


def test_decode_is_yaml_scalars() -> None:
    decoded = decode_hyperparameters(
        {"epochs": "16", "amp": "true", "freeze": "[0,1]", "lr0": "1e-3", "model": "yolo11n.yaml"}
    )
    assert decoded == {
        "epochs": 16,
        "amp": True,
        "freeze": [0, 1],
        "lr0": 0.001,
        "model": "yolo11n.yaml",
    }
    assert decode_hyperparameters({"name": "[unclosed"}) == {"name": "[unclosed"}


def test_encode_keeps_strings_that_look_like_other_types() -> None:
    encoded = encode_hyperparameters({"optimizer": "true", "device": "0", "epochs": 3})
    assert all(isinstance(v, str) for v in encoded.values())
    assert decode_hyperparameters(encoded) == {"optimizer": "true", "device": "0", "epochs": 3}
    assert encoded["epochs"] == "3"


def test_encode_refuses_sagemaker_overflows() -> None:
    with pytest.raises(ValueError, match="at most 100"):
        encode_hyperparameters({f"k{i}": i for i in range(101)})
    with pytest.raises(ValueError, match="too long"):
        encode_hyperparameters({"freeze": list(range(2000))})


scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=False),
    st.text(max_size=30),
)


@given(
    st.dictionaries(
        st.text(min_size=1, max_size=20),
        st.one_of(scalars, st.lists(scalars, max_size=4)),
        max_size=10,
    )
)
def test_encode_decode_roundtrip(values: dict[str, Any]) -> None:
    encoded = encode_hyperparameters(values)
    assert all(isinstance(v, str) and len(v) <= MAX_VALUE_CHARS for v in encoded.values())
    assert decode_hyperparameters(encoded) == values


def test_valid_training_settings_pass() -> None:
    good = {
        "epochs": 50,
        "batch": 16,
        "imgsz": 640,
        "lr0": 0.01,
        "amp": True,
        "optimizer": "AdamW",
        "fraction": 0.5,
        "device": [0, 1],
        "freeze": 10,
        "model": "yolo11n.pt",
        "export": "onnx",
        "cos_lr": True,
        "epochs_unused": None,
    }
    good.pop("epochs_unused")
    assert check_hyperparameters(good) == []


def test_unknown_key_suggests_the_closest_names() -> None:
    errors = _errors({"epoch": 3, "learning_rate": 0.1, "imgsize": 320})
    assert "did you mean epochs" in errors["epoch"]
    assert "imgsz" in errors["imgsize"]
    assert "docs.ultralytics.com" in errors["learning_rate"]  # nothing close: point at the docs


@pytest.mark.parametrize("key", sorted(CONTAINER_OWNED_KEYS))
def test_container_owned_keys_are_refused_with_the_reason(key: str) -> None:
    errors = _errors({key: "x"})
    assert "set by the training image" in errors[key]
    assert f"remove '{key}'" in errors[key]


@pytest.mark.parametrize(
    ("key", "value", "words"),
    [
        ("epochs", "ten", "whole number"),
        ("epochs", 0, ">= 1"),
        ("epochs", 2.5, "whole number"),
        ("lr0", 3.0, "between 0.0 and 1.0"),
        ("mosaic", "yes", "between 0.0 and 1.0"),
        ("cos_lr", "yes", "true or false"),
        ("batch", "big", "number"),
        ("optimizer", 3, "text"),
        ("amp", "fp8", "fp16"),
        ("imgsz", -5, "positive"),
        ("fraction", 0, "ratio"),
        ("patience", None, "must not be empty"),
    ],
)
def test_type_mismatches_are_errors(key: str, value: Any, words: str) -> None:
    errors = _errors({key: value})
    assert words in errors[key]


def test_integral_float_is_an_accepted_int() -> None:
    assert _errors({"epochs": 100.0}) == {}  # Ultralytics accepts 'epochs=1e2'


def test_export_formats() -> None:
    assert parse_export("ONNX, torchscript") == ["onnx", "torchscript"]
    assert parse_export(["onnx"]) == ["onnx"]
    assert parse_export("") == [] and parse_export(None) == []
    assert "onnx" in _errors({"export": "onnx,tflite"})["export"]


def test_model_names_are_checked_here_and_found_by_the_launcher() -> None:
    # A .pt name that is not baked is looked up under weights/ by the launcher, not here.
    assert check_hyperparameters({"model": "yolo11x.pt"}) == []
    assert check_hyperparameters({"model": "yolo11s.yaml"}) == []
    assert check_hyperparameters({"model": "job:yolo-shapes-20260101-abc"}) == []


@pytest.mark.parametrize(
    ("key", "value", "expected"),
    [
        ("model", "weights/best.pt", "not a model name"),
        ("model", "/opt/ml/input/data/dataset/x.pt", "not a model name"),
        ("model", "../x.pt", "not a model name"),
        ("model", "models/custom.yaml", "not an Ultralytics built-in architecture"),
        ("model", "my-arch.yaml", "not an Ultralytics built-in architecture"),
        ("pretrained", "weights/teacher.pt", "never a path"),
        ("distill_model", "teacher.pt", "baked"),
        ("task", "keypoints", "not supported"),
    ],
)
def test_model_paths_into_the_dataset_are_refused(key: str, value: str, expected: str) -> None:
    assert expected in _errors({key: value})[key]


def test_task_and_baked_teacher_accepted() -> None:
    assert check_hyperparameters({"task": "pose", "distill_model": "yolo11m-pose.pt"}) == []
    assert check_hyperparameters({"pretrained": False}) == []


def test_valid_keys_hide_owned_and_include_container_keys() -> None:
    keys = valid_keys()
    assert "data" not in keys and "resume" not in keys
    assert set(CONTAINER_KEYS) <= set(keys) and "epochs" in keys


def test_findings_name_the_file_and_field() -> None:
    (finding,) = check_hyperparameters({"epoch": 1}, file="training.yaml")
    assert finding.file == "training.yaml" and finding.field == "epoch"
    assert str(finding).startswith("training.yaml: epoch:")
