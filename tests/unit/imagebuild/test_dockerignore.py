"""Docker's .dockerignore semantics, case by case, as moby/patternmatcher applies them."""

from __future__ import annotations

import pytest

from yolo_pipeline.imagebuild.dockerignore import Matcher, parse

REPO_RULES = """
# The training image needs three things from the repository.
*
!training_image/requirements.txt
!functions/yolo_pipeline/
**/__pycache__
**/*.pyc
"""


@pytest.mark.parametrize(
    ("path", "ignored"),
    [
        ("README.md", True),
        ("tests/unit/test_x.py", True),
        (".venv/lib/python3.11/site.py", True),
        ("training_image/requirements.txt", False),
        ("training_image/Dockerfile", True),
        ("functions/yolo_pipeline/__init__.py", False),  # "!dir/" re-includes what is below
        ("functions/yolo_pipeline/cli/main.py", False),
        ("functions/yolo_pipeline/__pycache__/x.cpython-311.pyc", True),
        ("functions/yolo_pipeline/cli/mod.pyc", True),
        ("functions/start_training.py", True),
    ],
)
def test_repository_style_rules(path: str, ignored: bool) -> None:
    assert Matcher.from_text(REPO_RULES).ignored(path) is ignored


def test_comments_blanks_cleaning_and_leading_slash() -> None:
    patterns = parse("\ufeff# comment\n\n  /build/../dist/  \n ! ./keep.txt \n #not a comment\n")
    assert [(p.text, p.exclusion) for p in patterns] == [
        ("dist", False),
        ("keep.txt", True),
        ("#not a comment", False),  # only a "#" in the first column starts a comment
    ]


@pytest.mark.parametrize(
    ("pattern", "path", "ignored"),
    [
        ("*.md", "README.md", True),
        ("*.md", "docs/a.md", False),  # "*" stays inside one segment
        ("*/*.md", "docs/a.md", True),
        ("**/*.md", "README.md", True),  # "**/" also matches zero segments
        ("**/*.md", "a/b/c.md", True),
        ("docs/**", "docs/a/b.txt", True),
        ("docs/**", "docsx/a.txt", False),
        ("a/**/b", "a/b", True),
        ("a/**/b", "a/x/y/b", True),
        ("file?.txt", "file1.txt", True),
        ("file?.txt", "file/.txt", False),
        ("[ab].txt", "a.txt", True),
        ("[ab].txt", "c.txt", False),
        ("[^ab].txt", "c.txt", True),
        (r"\*.txt", "*.txt", True),
        (r"\*.txt", "a.txt", False),
        ("a+b(1).txt", "a+b(1).txt", True),  # regex characters are literal
        ("data", "data/train/x.jpg", True),  # a directory pattern covers its contents
        ("data", "mydata/x.jpg", False),
    ],
)
def test_pattern_forms(pattern: str, path: str, ignored: bool) -> None:
    assert Matcher.from_text(pattern).ignored(path) is ignored


def test_last_matching_line_wins() -> None:
    rules = Matcher.from_text("*.txt\n!keep*.txt\nkeep-not.txt\n")
    assert rules.ignored("a.txt")
    assert not rules.ignored("keep.txt")
    assert rules.ignored("keep-not.txt")


def test_directory_pruning_follows_docker() -> None:
    rules = Matcher.from_text(REPO_RULES)
    assert rules.may_skip_directory(".venv")
    assert rules.may_skip_directory("tests")
    assert not rules.may_skip_directory("functions")  # "!functions/yolo_pipeline" is inside
    assert not rules.may_skip_directory("training_image")
    assert not rules.may_skip_directory("functions/yolo_pipeline")  # not ignored at all
    assert not Matcher.from_text("").may_skip_directory("anything")
