"""Parsing S3 "Object Created" EventBridge events into uploads."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from tests.support.helpers import load_event
from yolo_pipeline.launcher.s3_event import Ignored, Upload, parse_upload


def _event(**obj: Any) -> dict[str, Any]:
    event = load_event("dataset_uploaded")
    event["detail"]["object"].update(obj)
    return event


def test_sample_event_parses() -> None:
    up = parse_upload(load_event("dataset_uploaded"), "datasets/")
    assert isinstance(up, Upload)
    assert up.bucket == "yolo-datasets-123456789012"
    assert up.key == "datasets/shapes/data.yaml"
    assert up.folder == "datasets/shapes/"
    assert up.folder_uri == "s3://yolo-datasets-123456789012/datasets/shapes/"
    assert up.dataset_name("datasets/") == "shapes"
    assert up.version_id is None and up.reason == "PutObject"
    assert up.identity() == {
        "bucket": "yolo-datasets-123456789012",
        "key": "datasets/shapes/data.yaml",
        "sequencer": "0062E99A88DC407460",
        "etag": "b1946ac92492d2347c6235b4d2611184",
    }


def test_versioned_event_decodes_the_key_and_keeps_the_version() -> None:
    up = parse_upload(load_event("dataset_uploaded_versioned"), "datasets/")
    assert isinstance(up, Upload)
    assert up.key == "datasets/Café été 2026/data.yaml"
    assert up.dataset_name("datasets/") == "Café été 2026"
    assert up.identity()["version_id"] == "Y09t5mKxVqYq0qlZ5kD0O1xY0G2bK0cS"
    assert Upload.from_identity(up.identity()).identity_hash() == up.identity_hash()


def test_moto_eTag_and_null_version_are_accepted() -> None:
    event = _event(**{"version-id": None})
    obj = event["detail"]["object"]
    obj["eTag"] = obj.pop("etag")
    up = parse_upload(event, "datasets/")
    assert isinstance(up, Upload)
    assert up.etag == "b1946ac92492d2347c6235b4d2611184" and up.version_id is None


def test_identity_ignores_event_id_but_not_sequencer() -> None:
    a = parse_upload(load_event("dataset_uploaded"), "datasets/")
    other_id = load_event("dataset_uploaded")
    other_id["id"] = "another-delivery"
    b = parse_upload(other_id, "datasets/")
    c = parse_upload(_event(sequencer="0062E99A88DC409999"), "datasets/")
    assert isinstance(a, Upload) and isinstance(b, Upload) and isinstance(c, Upload)
    assert a.identity_hash() == b.identity_hash() != c.identity_hash()


def test_nested_dataset_folder() -> None:
    up = parse_upload(_event(key="datasets/team%2Fa/signs/data.yaml"), "datasets/")
    assert isinstance(up, Upload) and up.dataset_name("datasets/") == "team/a/signs"


@pytest.mark.parametrize(
    "key",
    [
        "datasets/shapes/labels/train/a.txt",
        "uploads/shapes/data.yaml",
        "datasets/data.yaml",
        "datasets//data.yaml",
        "datasets/shapes/mydata.yaml",
        "datasets/shapes/data.yaml/",
    ],
)
def test_foreign_keys_are_ignored_with_a_reason(key: str) -> None:
    result = parse_upload(_event(key=key), "datasets/")
    assert isinstance(result, Ignored)
    assert key in result.reason


@pytest.mark.parametrize(
    "mutate",
    [
        lambda e: e.update({"source": "aws.sagemaker"}),
        lambda e: e.update({"detail-type": "Object Deleted"}),
        lambda e: e["detail"]["object"].pop("sequencer"),
        lambda e: e["detail"].pop("bucket"),
    ],
)
def test_other_events_are_ignored(mutate: Any) -> None:
    event = copy.deepcopy(load_event("dataset_uploaded"))
    mutate(event)
    assert isinstance(parse_upload(event, "datasets/"), Ignored)


def test_not_a_dict_is_ignored() -> None:
    assert isinstance(parse_upload([], "datasets/"), Ignored)  # type: ignore[arg-type]


def test_a_dataset_zip_is_an_upload_of_its_own() -> None:
    up = parse_upload(_event(key="datasets/my+set.zip"), "datasets/")
    assert isinstance(up, Upload) and up.is_zip
    assert up.key == "datasets/my set.zip"
    assert up.dataset_uri == up.uri == f"s3://{up.bucket}/datasets/my set.zip"
    assert up.dataset_name("datasets/") == "my set"
    folder = parse_upload(_event(key="datasets/shapes/data.yaml"), "datasets/")
    assert isinstance(folder, Upload) and not folder.is_zip
    assert folder.dataset_uri == folder.folder_uri


@pytest.mark.parametrize("key", ["datasets/.zip", "datasets/shapes/extra/more.zip"])
def test_a_zip_inside_a_folder_or_without_a_name_is_ignored(key: str) -> None:
    assert isinstance(parse_upload(_event(key=key), "datasets/"), Ignored)


def test_an_upper_case_zip_is_not_a_dataset_zip() -> None:
    # EventBridge's *.zip wildcard is case-sensitive: the rule never delivers .ZIP.
    from yolo_pipeline.launcher.s3_event import _is_dataset_zip

    assert _is_dataset_zip("datasets/shapes.zip", "datasets/")
    assert not _is_dataset_zip("datasets/shapes.ZIP", "datasets/")
