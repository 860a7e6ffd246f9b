"""Hostile YAML: data.yaml and training.yaml share one safe loader, so every
input gives findings with a line, in bounded time and memory, never an exception."""

from __future__ import annotations

import tracemalloc
from collections.abc import Callable
from typing import Any, TypeVar

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.support.hostile import ALIAS_BOMB, DEEP
from yolo_pipeline.dataset.class_names import MAX_CLASSES
from yolo_pipeline.dataset.data_yaml import parse_data_yaml
from yolo_pipeline.safe_yaml import MAX_DEPTH, load
from yolo_pipeline.training.config import SageMakerDefaults, parse_training_config

# The template's default bounds, as `yolo-pipeline local` uses them.
SETTINGS = SageMakerDefaults()


T = TypeVar("T")


def _bounded(fn: Callable[..., T], *args: Any) -> T:
    """Run ``fn`` and assert its peak allocation stayed under 50 MB (memory, not time:
    an alias bomb or 20 million class names would need gigabytes)."""
    tracemalloc.start()
    try:
        result = fn(*args)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 50 * 1024 * 1024
    return result


@pytest.mark.parametrize(
    ("text", "words", "line"),
    [
        (ALIAS_BOMB, "anchor", 1),
        ("x: 1\ny: *x\n", "alias", 2),
        (DEEP, f"more than {MAX_DEPTH} levels", 1),
        ("epochs: 2020-13-45\n", "cannot read", None),
        ("epochs: " + "9" * 5000 + "\n", "cannot read", None),
        ("epochs: [1\n", "not valid YAML", 2),
    ],
)
def test_training_yaml_bombs_are_findings(text: str, words: str, line: int | None) -> None:
    config = _bounded(parse_training_config, text, SETTINGS)
    assert not config.valid
    assert words in config.errors[0].message
    assert config.errors[0].line == line
    assert config.errors[0].file == "training.yaml"


@pytest.mark.parametrize("text", [ALIAS_BOMB, DEEP.replace("epochs", "names")])
def test_data_yaml_bombs_are_findings(text: str) -> None:
    parsed = _bounded(parse_data_yaml, text)
    assert parsed.config is None and parsed.errors and parsed.errors[0].line == 1


def test_one_loader_for_both_files() -> None:
    assert load("a: &x 1\n", "f", 100).findings[0].message.startswith("uses a YAML anchor")
    assert load("a: 1\n", "f", 100).data == {"a": 1}


def test_nc_twenty_million_is_refused_without_building_names() -> None:
    parsed = _bounded(parse_data_yaml, "train: a\nval: b\nnc: 20000000\n")
    assert parsed.config is None
    assert [f.field for f in parsed.errors] == ["nc"]
    assert f"1 to {MAX_CLASSES:,}" in parsed.errors[0].message
    assert parsed.errors[0].line == 3


def test_names_beyond_the_bound_are_refused() -> None:
    names = ", ".join(f"c{i}" for i in range(MAX_CLASSES + 1))
    parsed = _bounded(parse_data_yaml, f"train: a\nval: b\nnames: [{names}]\n")
    assert parsed.config is None and "limit is 10,000" in parsed.errors[0].message


def test_nc_at_the_bound_is_fine() -> None:
    parsed = parse_data_yaml(f"train: a\nval: b\nnc: {MAX_CLASSES}\n")
    assert parsed.config is not None and parsed.config.nc == MAX_CLASSES


@pytest.mark.parametrize(
    ("line", "field"),
    [("epochs: 3000000", "epochs"), ("imgsz: 100000", "imgsz"), ("batch: 1000000", "batch")],
)
def test_absurd_training_values_are_refused(line: str, field: str) -> None:
    config = parse_training_config(line + "\n", SETTINGS)
    assert [f.field for f in config.errors] == [field]
    assert "the limit is" in config.errors[0].message and config.errors[0].line == 1


def test_huge_values_are_quoted_bounded() -> None:
    config = parse_training_config("epochs: '" + "x" * 50_000 + "'\n", SETTINGS)
    assert len(str(config.errors[0])) < 400 and "..." in config.errors[0].message
    parsed = parse_data_yaml("train: '" + "a/" * 400_000 + "\x1b'\nval: v\nnames: [a]\n")
    assert all(len(str(f)) < 2000 for f in parsed.findings)


_yaml_ish = st.text(
    alphabet=st.sampled_from(list("abcdeimp:&*[]{}-,'\"!#\n \t01.9e_|>%@`\x00\x1b")),
    max_size=300,
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_yaml_ish)
def test_any_training_yaml_gives_a_report(text: str) -> None:
    config = parse_training_config(text, SETTINGS)
    for finding in [*config.errors, *config.warnings]:
        assert finding.file == "training.yaml" and len(str(finding)) < 2000


@settings(max_examples=300, deadline=None)
@given(_yaml_ish)
def test_any_data_yaml_gives_a_report(text: str) -> None:
    parsed = parse_data_yaml(text)
    assert parsed.config is not None or parsed.errors
