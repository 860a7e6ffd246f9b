"""`local PATH key=value ...`: overrides are checked with training.yaml, as the launcher
would check the uploaded file, before anything trains."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from tests.support.dataset_factory import detect_dataset, write_local
from yolo_pipeline.cli.local import run_local
from yolo_pipeline.errors import DatasetProblem


def test_a_misspelt_override_is_refused_with_the_rejection_email(tmp_path: Path) -> None:
    root = write_local(tmp_path / "shapes", detect_dataset())
    out = io.StringIO()
    with pytest.raises(DatasetProblem):
        run_local(root, workdir=tmp_path / "run", overrides={"epocs": 3}, out=out)
    text = out.getvalue()
    assert text.count("INVALID") == 1 and "VALID:" not in text.replace("INVALID:", "")
    assert "epocs" in text and "Dataset rejected" in text
