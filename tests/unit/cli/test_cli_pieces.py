"""The CLI's pure pieces: overrides, findings grouped by rule, the stack's settings, the wait."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
import yaml

from yolo_pipeline.aws.uploads import Verdict
from yolo_pipeline.cli.main import build_parser, parse
from yolo_pipeline.cli.report_text import group_findings, render_findings
from yolo_pipeline.cli.stack import sagemaker_defaults
from yolo_pipeline.cli.upload import split_rest
from yolo_pipeline.errors import UsageError
from yolo_pipeline.findings import error
from yolo_pipeline.training.config import SageMakerDefaults, parse_training_config
from yolo_pipeline.upload.overrides import merged_training_yaml, parse_overrides
from yolo_pipeline.upload.verdicts import wait_for_verdict


def test_overrides_are_read_as_ultralytics_reads_its_command_line() -> None:
    got = parse_overrides(["epochs=50", "amp=false", "model=yolo26s.pt", "sagemaker.spot=false"])
    assert got == {"epochs": 50, "amp": False, "model": "yolo26s.pt", "sagemaker.spot": False}
    with pytest.raises(UsageError, match="is not key=value"):
        parse_overrides(["epochs"])


def test_overrides_go_on_top_of_training_yaml_and_are_checked_like_it() -> None:
    current = b"epochs: 10\nsagemaker:\n  spot: true\n"
    text = merged_training_yaml(current, parse_overrides(["epochs=3", "sagemaker.spot=false"]))
    assert yaml.safe_load(text) == {"epochs": 3, "sagemaker": {"spot": False}}
    bad = merged_training_yaml(None, parse_overrides(["epocs=3"]))
    assert [f.field for f in parse_training_config(bad, SageMakerDefaults()).errors] == ["epocs"]


def test_the_uri_and_the_overrides_in_any_order() -> None:
    assert split_rest(["epochs=5", "s3://b/datasets/x/"]) == ("s3://b/datasets/x/", ["epochs=5"])
    assert split_rest([]) == (None, [])
    with pytest.raises(UsageError):
        split_rest(["b/datasets/x/"])


def test_the_same_rule_in_many_files_is_one_group() -> None:
    findings = [
        error(f"labels/train/{i}.txt", "class 5 is out of range", line=1, hint="fix it")
        for i in range(48)
    ] + [error("data.yaml", "names: is missing")]
    groups = group_findings(findings)
    assert len(groups) == 2 and len(groups[0].places) == 48
    lines = render_findings("Errors", findings)
    assert lines[0] == "Errors (49 in 2 rules):"
    assert "in 48 places, e.g. labels/train/0.txt:1" in lines[1]


def test_the_stacks_parameters_bound_training_yaml() -> None:
    got = sagemaker_defaults(
        {"AllowedInstanceTypes": "ml.g5.xlarge, ml.m5.xlarge", "MaxRuntimeHours": "6",
         "UseSpot": "false", "VolumeSizeGB": "80", "InputMode": "FastFile"}
    )  # fmt: skip
    assert got.allowed_instance_types == ("ml.g5.xlarge", "ml.m5.xlarge")
    assert got.max_runtime_seconds == 6 * 3600 and not got.use_spot
    assert got.volume_size_gb == 80 and got.input_mode == "FastFile"
    assert sagemaker_defaults({"VolumeSizeGB": "lots"}) == SageMakerDefaults()


class FakeTable:
    def __init__(self, states: list[str]) -> None:
        self.states = states

    def history(self, dataset: str, limit: int = 50) -> list[Verdict]:
        state = self.states.pop(0) if len(self.states) > 1 else self.states[0]
        stamp = "2030-01-01T00:00:00.000000Z"
        return [Verdict(dataset, "u", state, first_seen=stamp)]


def test_the_wait_ends_at_the_first_state_beyond_settling() -> None:
    seen: list[str] = []
    table: Any = FakeTable(["settling", "settling", "started"])
    got = wait_for_verdict(
        table, "shapes", datetime(2029, 1, 1, tzinfo=UTC), 60,
        on_change=lambda v: seen.append(v.state), sleep=lambda _s: None,
    )  # fmt: skip
    assert got is not None and got.state == "started" and seen == ["settling", "started"]


def test_the_wait_gives_up_at_its_timeout() -> None:
    ticks = iter(range(100))
    table: Any = FakeTable(["settling"])
    got = wait_for_verdict(
        table, "shapes", datetime(2029, 1, 1, tzinfo=UTC), 5,
        sleep=lambda _s: None, clock=lambda: float(next(ticks)),
    )  # fmt: skip
    assert got is not None and got.state == "settling"


def test_overrides_may_follow_options_as_on_ultralytics_line() -> None:
    args = parse(build_parser(), ["local", "data", "--epochs", "2", "imgsz=96", "batch=8"])
    assert args.overrides == ["imgsz=96", "batch=8"] and args.epochs == 2
    with pytest.raises(SystemExit):
        parse(build_parser(), ["validate", "data", "imgsz=96"])
