"""output/failure paragraphs, results.csv reading, model lookup, and what the container imports."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

from tests.support.helpers import ROOT
from yolo_pipeline.container.errors import Terminated, UserError
from yolo_pipeline.container.layout import Layout
from yolo_pipeline.container.offline import resolve_model, weights_dir
from yolo_pipeline.container.outputs import (
    FAILURE_MAX_CHARS,
    failure_paragraph,
    read_results,
    write_failure,
)
from yolo_pipeline.container.results import fitness
from yolo_pipeline.errors import PipelineError


def test_failure_paragraphs() -> None:
    assert failure_paragraph(UserError("Fix\n  data.yaml:\tnow.")) == "Fix data.yaml: now."
    stopped = failure_paragraph(Terminated("SIGTERM"))
    assert stopped.startswith("Training was stopped (SIGTERM: a stop request or a spot")
    assert "a restart resumes from it" in stopped
    assert failure_paragraph(ValueError("boom")) == (
        "Training failed: ValueError: boom. See the job's CloudWatch log."
    )
    long = failure_paragraph(UserError("x" * 5000))
    assert len(long) == FAILURE_MAX_CHARS and long.endswith("...")
    assert issubclass(UserError, PipelineError) and issubclass(Terminated, PipelineError)


def test_write_failure_creates_output_and_never_raises(tmp_path: Path) -> None:
    layout = Layout(tmp_path, tmp_path)
    write_failure(layout, UserError("bad"))
    assert layout.failure.read_text(encoding="utf-8") == "bad"
    blocked = Layout(tmp_path / "file", tmp_path)
    (tmp_path / "file").write_text("not a folder")
    write_failure(blocked, UserError("bad"))  # OSError swallowed: it runs inside a failure


def test_results_rows_and_the_best_epoch(tmp_path: Path) -> None:
    assert read_results(tmp_path) == []
    (tmp_path / "results.csv").write_text(
        "  epoch,  metrics/mAP50(B),  metrics/mAP50-95(B), note\n1, 0.9, 0.1, x\n2, 0.5, 0.4,\n",
        encoding="utf-8",
    )
    rows = read_results(tmp_path)
    assert rows == [
        {"epoch": 1.0, "metrics/mAP50(B)": 0.9, "metrics/mAP50-95(B)": 0.1},
        {"epoch": 2.0, "metrics/mAP50(B)": 0.5, "metrics/mAP50-95(B)": 0.4},
    ]
    assert max(rows, key=fitness)["epoch"] == 2.0  # fitness is mAP50-95 alone
    assert fitness({}) == 0.0


def test_models_come_from_the_image_or_are_architectures(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("YOLO_WEIGHTS_DIR", raising=False)
    layout = Layout(tmp_path / "ml", tmp_path)
    assert weights_dir(tmp_path) == tmp_path / "weights"
    assert resolve_model(layout, {"model": "yolo11n.yaml"}) == "yolo11n.yaml"
    (tmp_path / "weights").mkdir()
    (tmp_path / "weights" / "yolo11n.pt").write_bytes(b"x")
    baked = tmp_path / "weights" / "yolo11n.pt"
    assert resolve_model(layout, {"model": "yolo11n.pt"}) == str(baked)
    monkeypatch.setenv("YOLO_WEIGHTS_DIR", str(tmp_path / "baked"))
    assert weights_dir(tmp_path) == tmp_path / "baked"
    with pytest.raises(UserError, match=r"yolo11n\.pt should be baked into the image"):
        resolve_model(layout, {"model": "yolo11n.pt"})


# The image installs the project with --no-deps: what the container imports must be in
# training_image/requirements.txt (or the base image's torch), never the Lambdas' boto3/Powertools.
IMAGE_PACKAGES = {"yaml", "ultralytics", "torch", "PIL", "matplotlib", "numpy"}
PACKAGE = ROOT / "functions"
CONTAINER = Path("yolo_pipeline", "container")


def _module_file(name: str) -> Path | None:
    path = PACKAGE.joinpath(*name.split("."))
    for candidate in (path.with_suffix(".py"), path / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


def _imported(tree: ast.Module, lazy: bool) -> set[str]:
    """Every module an import names (with ``lazy``, also inside functions); `from m import x`
    adds m.x too. Outside the container package only module-level imports count: what a
    shared module imports inside a function (its S3 paths: boto3, obstore) runs only when
    that function does, and the container never calls those."""
    names: set[str] = set()
    for node in ast.walk(tree) if lazy else tree.body:
        if isinstance(node, ast.Import):
            names.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
            names.update(f"{node.module}.{a.name}" for a in node.names)
    return names


def test_the_container_imports_only_what_the_image_installs() -> None:
    todo = [f"yolo_pipeline.container.{p.stem}" for p in (PACKAGE / CONTAINER).glob("*.py")]
    seen: set[str] = set()
    third_party: set[str] = set()
    while todo:
        name = todo.pop()
        parts = name.split(".")
        for i in range(1, len(parts) + 1):  # importing a.b.c runs a and a.b first
            module = ".".join(parts[:i])
            path = _module_file(module)
            if module in seen or path is None:
                continue
            seen.add(module)
            tree = ast.parse(path.read_text(encoding="utf-8"))
            for imported in _imported(tree, lazy=module.startswith("yolo_pipeline.container")):
                top = imported.split(".")[0]
                if top == "yolo_pipeline":
                    todo.append(imported)
                elif top not in sys.stdlib_module_names and top != "__future__":
                    third_party.add(top)
    assert "yolo_pipeline.dataset.data_yaml" in seen
    assert third_party <= IMAGE_PACKAGES, third_party - IMAGE_PACKAGES
    assert {"ultralytics", "yaml"} <= third_party


def test_fitness_is_ultralytics_own_mAP50_95_summed_over_kinds() -> None:
    # Ultralytics 8.4.190: box fitness weighs only mAP50-95; segment and pose add their own.
    from yolo_pipeline.container.results import best_row

    rows = [
        {"epoch": 1.0, "metrics/mAP50(B)": 0.90, "metrics/mAP50-95(B)": 0.50},
        {"epoch": 2.0, "metrics/mAP50(B)": 0.60, "metrics/mAP50-95(B)": 0.51},
    ]
    assert best_row(rows)["epoch"] == 2.0
    segment = {"metrics/mAP50-95(B)": 0.4, "metrics/mAP50-95(M)": 0.3}
    assert fitness(segment) == 0.4 + 0.3
