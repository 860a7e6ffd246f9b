"""`yolo-pipeline validate`: output formats and exit codes (0 valid, 1 invalid, 2 usage)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.dataset_factory import detect_dataset, with_changes, write_local
from tests.support.helpers import ROOT
from yolo_pipeline.cli.main import build_parser, main


def test_valid_dataset_prints_a_readable_report(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = write_local(tmp_path, detect_dataset(background=1))
    assert main(["validate", str(root), "--no-stack"]) == 0
    out = capsys.readouterr().out
    assert out.startswith(f"VALID: {root}")
    assert "Warnings (1 in 1 rule):" in out and "background" in out
    assert "checked against the template's defaults (--no-stack)" in out
    assert "Task: detect, classes: 3" in out


def test_invalid_dataset_json_and_exit_1(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    files = with_changes(detect_dataset(), **{"labels/train/train_00000.txt": "5 0.5 0.5 0.1 0.1"})
    root = write_local(tmp_path, files)
    assert main(["validate", str(root / "data.yaml"), "--json", "--no-stack"]) == 1
    out = json.loads(capsys.readouterr().out)
    assert out["valid"] is False
    assert out["errors"][0]["file"] == "labels/train/train_00000.txt"
    assert out["errors"][0]["line"] == 1
    assert "class 5 is out of range" in out["errors"][0]["message"]
    assert set(out) >= {"valid", "errors", "warnings", "stats", "location"}


def test_usage_errors_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["validate", str(tmp_path / "missing")]) == 2
    assert "does not exist" in capsys.readouterr().err
    for argv in ([], ["validate"], ["nope"], ["validate", "a", "--bogus"]):
        with pytest.raises(SystemExit) as exc:
            main(argv)
        assert exc.value.code == 2


def test_parser_is_extensible() -> None:
    parser = build_parser()
    args = parser.parse_args(["validate", "s3://b/p/", "--json"])
    assert args.command == "validate" and args.json and callable(args.handler)


def test_console_script_entrypoint(tmp_path: Path) -> None:
    root = write_local(tmp_path, detect_dataset())
    proc = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys; from yolo_pipeline.cli.main import main; sys.exit(main())",
            "validate",
            str(root),
            "--json",
            "--no-stack",
        ],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT / "functions")},
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["valid"] is True


def test_a_training_yaml_typo_and_a_disallowed_instance_are_invalid(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """validate judges training.yaml as the launcher does, not only the dataset."""
    files = with_changes(
        detect_dataset(),
        **{"training.yaml": "epocs: 4\nsagemaker:\n  instance_type: ml.p5.48xlarge\n"},
    )
    root = write_local(tmp_path, files)
    assert main(["validate", str(root), "--no-stack", "--json"]) == 1
    errors = json.loads(capsys.readouterr().out)["errors"]
    assert {e["field"] for e in errors} == {"epocs", "sagemaker.instance_type"}


def test_the_same_problem_in_many_files_reads_as_one_rule(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    changes = {f"labels/train/train_{i:05d}.txt": "5 0.5 0.5 0.1 0.1" for i in range(4)}
    root = write_local(tmp_path, with_changes(detect_dataset(), **changes))
    assert main(["validate", str(root), "--no-stack"]) == 1
    out = capsys.readouterr().out
    assert "in 4 places, e.g. labels/train/train_00000.txt:1" in out


def test_a_closed_pipe_ends_quietly(tmp_path: Path) -> None:
    root = write_local(tmp_path, detect_dataset())
    code = "import sys; from yolo_pipeline.cli.main import main; sys.exit(main())"
    proc = subprocess.run(  # noqa: S602 - the pipe to head is what is tested
        f"{sys.executable} -c '{code}' validate {root} --no-stack --json | head -1",
        shell=True,
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT / "functions")},
        timeout=300,
    )
    assert "Traceback" not in proc.stderr and proc.stdout.strip() == "{"
