"""One dataset name: what every email, the registry and the CLI call a dataset."""

from __future__ import annotations

import pytest

from yolo_pipeline.names import dataset_name, named_dataset

pytestmark = pytest.mark.unit


@pytest.mark.parametrize(
    ("location", "name"),
    [
        ("datasets/team/cats/data.yaml", "team/cats"),
        ("s3://b/datasets/cats.zip", "cats"),
        ("s3://b/datasets/cats/", "cats"),
        ("elsewhere/dogs/", "dogs"),
    ],
)
def test_a_location_names_its_dataset(location: str, name: str) -> None:
    assert dataset_name(location) == name


@pytest.mark.parametrize(
    ("argument", "name"),
    [
        ("team/cats", "team/cats"),  # a bare nested name keeps its folders
        ("cats.zip", "cats"),
        ("cats", "cats"),
        ("s3://b/datasets/team/cats/", "team/cats"),
        ("datasets/cats.zip", "cats"),
    ],
)
def test_a_command_line_argument_names_the_same_dataset(argument: str, name: str) -> None:
    assert named_dataset(argument) == name
