"""The metric line format and the SageMaker MetricDefinitions that read it."""

from __future__ import annotations

import math
import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from yolo_pipeline.training.metric_line import (
    METRIC_DEFINITIONS,
    METRIC_NAMES,
    format_metric_line,
    from_ultralytics,
    parse_metric_lines,
)

# What Ultralytics' DetectionTrainer hands the on_fit_epoch_end callback.
ULTRALYTICS_EPOCH = {
    "train/box_loss": 1.25,
    "train/cls_loss": 2.5,
    "train/dfl_loss": 1.0625,
    "metrics/precision(B)": 0.75,
    "metrics/recall(B)": 0.5,
    "metrics/mAP50(B)": 0.625,
    "metrics/mAP50-95(B)": 0.3125,
    "val/box_loss": 1.5,
    "val/cls_loss": 2.75,
    "val/dfl_loss": 1.125,
    "lr/pg0": 0.001,
    "lr/pg1": 0.001,
    "fitness": 0.34,
}


def test_definitions_are_valid_for_create_training_job() -> None:
    names = [d["Name"] for d in METRIC_DEFINITIONS]
    assert len(names) == len(set(names)) == len(METRIC_NAMES)
    assert len(METRIC_DEFINITIONS) <= 40  # SageMaker's limit per job
    for d in METRIC_DEFINITIONS:
        assert set(d) == {"Name", "Regex"}
        assert 1 <= len(d["Name"]) <= 255
        assert 1 <= len(d["Regex"]) <= 500
        assert re.compile(d["Regex"]).groups >= 1


def test_every_regex_reads_its_own_value_from_a_line() -> None:
    # the last line (best.pt's final validation) also carries best_epoch
    values = {**from_ultralytics(ULTRALYTICS_EPOCH), "best_epoch": 5.0}
    line = "2026-11-27T11:00:00 " + format_metric_line(7, values)
    for d in METRIC_DEFINITIONS:
        match = re.search(d["Regex"], line)
        assert match, d
        expected = 7.0 if d["Name"] == "epoch" else values[d["Name"]]
        assert float(match.group(1)) == pytest.approx(expected)


def test_similar_names_do_not_capture_each_other() -> None:
    line = format_metric_line(1, {"val:mAP50-95": 0.25, "val:box_loss": 3.0})
    by_name = {d["Name"]: d["Regex"] for d in METRIC_DEFINITIONS}
    assert re.search(by_name["val:mAP50"], line) is None
    assert re.search(by_name["train:box_loss"], line) is None
    final = format_metric_line(30, {"best_epoch": 21.0, "val:mAP50-95": 0.5})
    assert float(re.search(by_name["epoch"], final).group(1)) == 30  # type: ignore[union-attr]
    assert re.search(by_name["best_epoch"], line) is None
    assert float(re.search(by_name["val:mAP50-95"], line).group(1)) == 0.25  # type: ignore[union-attr]


def test_nan_is_printed_but_never_scraped() -> None:
    line = format_metric_line(2, {"val:precision": math.nan, "val:recall": math.inf})
    assert "val:precision=nan" in line
    by_name = {d["Name"]: d["Regex"] for d in METRIC_DEFINITIONS}
    assert re.search(by_name["val:precision"], line) is None
    assert re.search(by_name["val:recall"], line) is None


def test_from_ultralytics_maps_and_drops() -> None:
    mapped = from_ultralytics(ULTRALYTICS_EPOCH)
    assert mapped["val:mAP50-95"] == 0.3125 and mapped["lr"] == 0.001
    assert "fitness" not in mapped and "lr/pg1" not in mapped
    assert set(mapped) == set(METRIC_NAMES) - {"epoch", "best_epoch"}


def test_lines_without_the_prefix_are_ignored() -> None:
    log = "epoch=3 val:mAP50=0.9\nnoise\n" + format_metric_line(4, {"val:mAP50": 0.5})
    assert parse_metric_lines(log) == [{"epoch": 4.0, "val:mAP50": 0.5}]


def test_bad_name_is_refused() -> None:
    with pytest.raises(ValueError, match="spaces"):
        format_metric_line(1, {"bad name": 1.0})


@given(
    epoch=st.integers(min_value=0, max_value=10**6),
    values=st.dictionaries(
        st.sampled_from([n for n in METRIC_NAMES if n != "epoch"]),
        st.floats(allow_nan=False, allow_infinity=False, width=32),
    ),
)
def test_format_parse_roundtrip(epoch: int, values: dict[str, float]) -> None:
    (row,) = parse_metric_lines(format_metric_line(epoch, values))
    assert row.pop("epoch") == epoch
    assert row == pytest.approx(values, rel=1e-5, abs=1e-30)
    line = format_metric_line(epoch, values)
    for d in METRIC_DEFINITIONS:
        match = re.search(d["Regex"], line)
        if d["Name"] in values:
            assert match and float(match.group(1)) == pytest.approx(values[d["Name"]], rel=1e-5)
