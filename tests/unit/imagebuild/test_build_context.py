"""The CodeBuild source zip holds what the Dockerfile COPYs and nothing .dockerignore drops."""

from __future__ import annotations

import io
import re
import zipfile
from pathlib import Path

import pytest

from tests.support.helpers import ROOT
from yolo_pipeline.imagebuild.context import (
    BUILDSPEC,
    DOCKERFILE,
    BuildContextError,
    build_inputs,
    context_files,
    zip_context,
)
from yolo_pipeline.imagebuild.dockerignore import Matcher


def copy_sources() -> list[str]:
    """The source paths of every COPY in the Dockerfile (continuations joined)."""
    text = re.sub(r"\\\n", " ", (ROOT / DOCKERFILE).read_text(encoding="utf-8"))
    sources: list[str] = []
    for line in text.splitlines():
        words = line.split()
        if words and words[0].upper() == "COPY":
            args = [w for w in words[1:] if not w.startswith("--")]
            sources += args[:-1]
    assert sources, "the Dockerfile copies nothing?"
    return sources


def test_the_repository_zip_holds_every_copy_source_and_nothing_ignored() -> None:
    context = zip_context(ROOT)
    names = zipfile.ZipFile(io.BytesIO(context.data)).namelist()
    assert names == sorted(names) and list(context.files) == names
    for source in copy_sources():
        if source.endswith("/") or (ROOT / source).is_dir():
            prefix = source.rstrip("/") + "/"
            expected = {
                p.relative_to(ROOT).as_posix()
                for p in (ROOT / source).rglob("*")
                if p.is_file() and "__pycache__" not in p.parts and p.suffix != ".pyc"
            }
            assert expected and expected <= set(names), source
            assert any(n.startswith(prefix) for n in names)
        else:
            assert source in names, source
    assert {DOCKERFILE, BUILDSPEC} <= set(names)
    ignore_text = (ROOT / ".dockerignore").read_text(encoding="utf-8")
    matcher = Matcher.from_text(ignore_text)
    extras = {DOCKERFILE, BUILDSPEC, ".dockerignore"}
    for name in names:
        assert name in extras or not matcher.ignored(name), name
        top = name.split("/", 1)[0]
        assert top not in {"tests", ".venv", ".venv-sam", ".git", "demo", "datasets"}, name
        assert "__pycache__" not in name and not name.endswith(".pyc"), name


def _tree(root: Path, files: dict[str, str]) -> None:
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")


def test_a_tree_with_tests_venvs_and_datasets_keeps_only_what_the_rules_allow(
    tmp_path: Path,
) -> None:
    _tree(
        tmp_path,
        {
            DOCKERFILE: "FROM scratch\n",
            BUILDSPEC: "version: 0.2\n",
            ".dockerignore": "*\n!pyproject.toml\n!README.md\n!pkg/\n!training_image/train.py\n"
            "**/__pycache__\n**/*.pyc\n",
            "pyproject.toml": "[project]\n",
            "README.md": "# r\n",
            "pkg/a.py": "",
            "pkg/sub/b.py": "",
            "pkg/__pycache__/a.cpython-311.pyc": "",
            "pkg/sub/c.pyc": "",
            "training_image/train.py": "",
            "training_image/requirements.txt": "ultralytics\n",
            "tests/test_a.py": "",
            ".venv/lib/site.py": "",
            "demo/shapes/data.yaml": "names: [a]\n",
            "datasets/x/images/1.jpg": "",
        },
    )
    assert context_files(tmp_path) == [
        "README.md",
        "pkg/a.py",
        "pkg/sub/b.py",
        "pyproject.toml",
        "training_image/train.py",
    ]
    assert build_inputs(tmp_path) == [
        ".dockerignore",
        "README.md",
        "pkg/a.py",
        "pkg/sub/b.py",
        "pyproject.toml",
        "training_image/Dockerfile",
        "training_image/buildspec.yml",
        "training_image/train.py",
    ]


def test_a_dockerfile_specific_ignore_file_wins(tmp_path: Path) -> None:
    _tree(
        tmp_path,
        {
            DOCKERFILE: "FROM scratch\n",
            BUILDSPEC: "version: 0.2\n",
            ".dockerignore": "*\n",
            f"{DOCKERFILE}.dockerignore": "tests\n",
            "src/a.py": "",
            "tests/t.py": "",
        },
    )
    assert context_files(tmp_path) == [
        ".dockerignore",  # "*" in the root file would drop it; that file is not used
        "src/a.py",
        "training_image/Dockerfile",
        "training_image/Dockerfile.dockerignore",
        "training_image/buildspec.yml",
    ]


def test_the_zip_is_reproducible_and_keeps_modes(tmp_path: Path) -> None:
    _tree(tmp_path, {DOCKERFILE: "FROM scratch\n", BUILDSPEC: "version: 0.2\n", "run.sh": "x"})
    (tmp_path / "run.sh").chmod(0o755)
    first, second = zip_context(tmp_path), zip_context(tmp_path)
    assert first.data == second.data and first.sha256 == second.sha256
    info = zipfile.ZipFile(io.BytesIO(first.data)).getinfo("run.sh")
    assert (info.external_attr >> 16) & 0o777 == 0o755


def test_a_kept_symbolic_link_is_refused_and_an_ignored_one_skipped(tmp_path: Path) -> None:
    repo, outside = tmp_path / "repo", tmp_path / "secret.txt"
    outside.write_text("credentials\n", encoding="utf-8")
    _tree(
        repo,
        {
            DOCKERFILE: "FROM scratch\n",
            BUILDSPEC: "version: 0.2\n",
            ".dockerignore": "*\n!pkg/\n",
            "pkg/a.py": "",
        },
    )
    (repo / "notes.txt").symlink_to(outside)  # ignored: never read
    assert "notes.txt" not in zip_context(repo).files
    for link, target in (("pkg/leak.txt", outside), ("pkg/folder", tmp_path)):
        (repo / link).symlink_to(target)
        with pytest.raises(BuildContextError, match="symbolic link"):
            zip_context(repo)
        (repo / link).unlink()
    assert zip_context(repo).files == (".dockerignore", "pkg/a.py", DOCKERFILE, BUILDSPEC)
