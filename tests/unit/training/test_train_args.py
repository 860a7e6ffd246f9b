"""The generated train_args snapshot matches the installed (pinned) Ultralytics."""

from __future__ import annotations

import importlib.util
import os

from tests.support.helpers import ROOT
from yolo_pipeline.training import train_args_generated as train_args


def test_snapshot_matches_installed_ultralytics() -> None:
    os.environ.setdefault("YOLO_OFFLINE", "1")
    spec = importlib.util.spec_from_file_location("gen", ROOT / "scripts" / "gen_train_args.py")
    assert spec and spec.loader
    gen = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(gen)
    snap = gen.snapshot()
    hint = "run: YOLO_OFFLINE=1 .venv/bin/python scripts/gen_train_args.py"
    assert snap["version"] == train_args.ULTRALYTICS_VERSION, hint
    assert snap["defaults"] == train_args.DEFAULTS, hint
    assert snap["float_keys"] == train_args.FLOAT_KEYS, hint
    assert snap["fraction_keys"] == train_args.FRACTION_KEYS, hint
    assert snap["int_keys"] == train_args.INT_KEYS, hint
    assert snap["bool_keys"] == train_args.BOOL_KEYS, hint
    assert snap["str_keys"] == train_args.STR_KEYS, hint
    assert snap["int_min"] == train_args.INT_MIN, hint


def test_snapshot_matches_the_pinned_requirement() -> None:
    pins = (ROOT / "training_image" / "requirements.txt").read_text()
    assert f"ultralytics=={train_args.ULTRALYTICS_VERSION}" in pins
