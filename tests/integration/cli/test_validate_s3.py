"""The whole corpus judged on S3 (moto) exactly as on disk, through the CLI too."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.support.dataset_factory import Case, corpus, detect_dataset, put_s3, write_local
from yolo_pipeline.cli.main import main
from yolo_pipeline.dataset.storage.local import LocalStorage
from yolo_pipeline.dataset.storage.s3 import S3Storage
from yolo_pipeline.dataset.validation import validate_dataset, validate_location
from yolo_pipeline.findings import Finding


@pytest.mark.parametrize("case", corpus(), ids=lambda c: c.name)
def test_corpus_on_s3_matches_local(
    aws: None, tmp_path: Path, case: Case, capsys: pytest.CaptureFixture[str]
) -> None:
    uri = put_s3(case.files, "datasets-bucket", f"datasets/{case.name}/")
    s3 = validate_location(uri)
    local = validate_dataset(LocalStorage(write_local(tmp_path, case.files)))
    assert s3.valid is case.valid, s3.render_text()

    def texts(findings: list[Finding], location: str) -> list[str]:
        return [str(f).replace(location, "<root>") for f in findings]

    assert texts(s3.errors, uri) == texts(local.errors, local.location)
    assert texts(s3.warnings, uri) == texts(local.warnings, local.location)
    assert s3.stats == local.stats

    code = main(["validate", uri, "--json"])
    out = json.loads(capsys.readouterr().out)
    assert code == (0 if case.valid else 1)
    assert out["valid"] is case.valid and out["location"] == uri


def test_labels_are_read_but_images_are_not(aws: None) -> None:
    files = detect_dataset(n_train=20, n_val=5)
    uri = put_s3(files, "bucket", "datasets/shapes/")
    from yolo_pipeline.aws import clients as aws_module

    client = aws_module.client("s3")
    keys: list[str] = []
    client.meta.events.register(
        "before-send.s3.GetObject", lambda request, **kw: keys.append(request.url)
    )
    report = validate_dataset(S3Storage("bucket", "datasets/shapes/", client=client))
    assert report.valid, report.render_text()
    assert len(keys) == 1 + 25  # data.yaml and each label file, once
    assert not any(k.endswith(".jpg") for k in keys)
    assert uri == report.location


def test_data_yaml_uri_and_missing_bucket(aws: None) -> None:
    uri = put_s3(detect_dataset(), "bucket", "datasets/shapes/")
    assert validate_location(uri + "data.yaml").valid
    missing = validate_location("s3://no-such-bucket/datasets/x/")
    assert not missing.valid
    assert "bucket does not exist" in str(missing.errors[0])
