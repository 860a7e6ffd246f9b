"""The container's thin entrypoint and its failure path (no training: every case fails early)."""

from __future__ import annotations

import ast
import json
import signal
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.helpers import ROOT
from yolo_pipeline.container import entry
from yolo_pipeline.container.layout import Layout

TRAIN_PY = ROOT / "training_image" / "train.py"


@pytest.fixture(autouse=True)
def _keep_sigterm() -> Iterator[None]:
    """main() installs its SIGTERM handler; the test process gets its own back."""
    previous = signal.getsignal(signal.SIGTERM)
    yield
    signal.signal(signal.SIGTERM, previous)


def test_train_py_is_thin_and_finds_the_package_through_the_install() -> None:
    text = TRAIN_PY.read_text(encoding="utf-8")
    assert len(text.splitlines()) <= 60
    assert "sys.path" not in text
    imports = {
        node.module
        for node in ast.walk(ast.parse(text))
        if isinstance(node, ast.ImportFrom) and node.module
    }
    assert "yolo_pipeline.container.entry" in imports


def test_local_runs_the_entry_that_train_py_runs(tmp_path: Path) -> None:
    from yolo_pipeline.container import __main__ as module_main
    from yolo_pipeline.local.simulator import container_command

    assert container_command(tmp_path)[1:3] == ["-m", "yolo_pipeline.container"]
    assert module_main.main is entry.main


def test_layout_is_the_sagemaker_contract(tmp_path: Path) -> None:
    layout = Layout(tmp_path, tmp_path / "code")
    rel = {
        name: getattr(layout, name).relative_to(tmp_path).as_posix()
        for name in ("hyperparameters", "channel", "checkpoints", "run_dir", "model", "failure")
    }
    assert rel == {
        "hyperparameters": "input/config/hyperparameters.json",
        "channel": "input/data/dataset",
        "checkpoints": "checkpoints",
        "run_dir": "checkpoints/run",
        "model": "model",
        "failure": "output/failure",
    }


def _main(root: Path) -> tuple[int, str]:
    code = entry.main(["train", "--sm-root", str(root)], code=root / "code")
    return code, (root / "output" / "failure").read_text(encoding="utf-8")


def test_a_missing_channel_fails_with_exit_1_and_a_reason(tmp_path: Path) -> None:
    code, reason = _main(tmp_path)
    assert code == entry.EXIT_FAILED == 1
    assert reason.startswith("No 'dataset' input channel")
    assert "InputDataConfig channel named 'dataset'" in reason


@pytest.mark.parametrize(
    ("content", "start"),
    [
        ("{not json", "hyperparameters.json is not valid JSON"),
        ('["epochs"]', "hyperparameters.json must be a JSON object of name: value."),
        ('{"epoch": "3"}', "Invalid hyperparameters: "),
    ],
)
def test_bad_hyperparameters_fail_before_anything_else(
    tmp_path: Path, content: str, start: str
) -> None:
    config = tmp_path / "input" / "config"
    config.mkdir(parents=True)
    (config / "hyperparameters.json").write_text(content, encoding="utf-8")
    code, reason = _main(tmp_path)
    assert code == 1
    assert reason.startswith(start)
    assert "\n" not in reason


def test_a_missing_data_yaml_names_where_it_belongs(tmp_path: Path) -> None:
    (tmp_path / "input" / "data" / "dataset").mkdir(parents=True)
    (tmp_path / "input" / "config").mkdir(parents=True)
    (tmp_path / "input" / "config" / "hyperparameters.json").write_text(json.dumps({}))
    code, reason = _main(tmp_path)
    assert code == 1
    assert reason == (
        "data.yaml is missing at the dataset root: upload it next to images/ and labels/."
    )


def test_only_train_mode_is_accepted(tmp_path: Path) -> None:
    with pytest.raises(SystemExit) as caught:
        entry.main(["serve", "--sm-root", str(tmp_path)])
    assert caught.value.code == 2
