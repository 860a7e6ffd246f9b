"""Job names: deterministic, unique per upload, always valid for CreateTrainingJob."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.support.botocore_model import validate_request
from yolo_pipeline.launcher.job_name import MAX_LENGTH, PATTERN, job_name, slugify
from yolo_pipeline.launcher.s3_event import Upload

HASH = "0123456789abcdef" * 4


@pytest.mark.parametrize(
    ("dataset", "slug"),
    [
        ("shapes", "shapes"),
        ("My Dataset (v2)", "my-dataset-v2"),
        ("Café été", "cafe-ete"),
        ("交通标志", "dataset"),
        ("team/traffic_signs", "team-traffic-signs"),
        ("---", "dataset"),
    ],
)
def test_slugs_read_well(dataset: str, slug: str) -> None:
    assert job_name("yolo", dataset, HASH) == f"yolo-{slug}-0123456789"


def test_long_names_are_cut_to_63_without_a_trailing_hyphen() -> None:
    name = job_name("yolo", "a-" * 100, HASH)
    assert len(name) <= MAX_LENGTH and PATTERN.match(name)
    assert name.endswith("-0123456789") and "--" not in name


def test_same_upload_same_name_new_sequencer_new_name() -> None:
    first = Upload("b", "datasets/x/data.yaml", "0062E99A88DC407460", etag="e")
    redelivered = Upload("b", "datasets/x/data.yaml", "0062E99A88DC407460", etag="e", size=9)
    rewritten = Upload("b", "datasets/x/data.yaml", "0062E99A88DC407999", etag="e")
    names = [job_name("yolo", "x", u.identity_hash()) for u in (first, redelivered, rewritten)]
    assert names[0] == names[1] != names[2]


def test_bad_prefix_is_refused() -> None:
    with pytest.raises(ValueError, match="prefix"):
        job_name("-bad", "x", HASH)
    with pytest.raises(ValueError, match="hex"):
        job_name("yolo", "x", "zz")


@settings(max_examples=300, deadline=None)
@given(
    prefix=st.from_regex(r"[a-zA-Z0-9]{1,20}", fullmatch=True),
    dataset=st.text(max_size=300),
    digest=st.text(alphabet="0123456789abcdef", min_size=64, max_size=64),
)
def test_any_input_gives_a_name_the_api_accepts(prefix: str, dataset: str, digest: str) -> None:
    name = job_name(prefix, dataset, digest)
    assert name.startswith(prefix + "-") and len(name) <= MAX_LENGTH and PATTERN.match(name)
    assert slugify(dataset, 40) == slugify(dataset, 40).strip("-")
    validate_request(
        "sagemaker",
        "DescribeTrainingJob",
        {"TrainingJobName": name},
    )
