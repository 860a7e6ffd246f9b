"""The corpus zipped on (moto) S3 judged as its folder is, through ranged reads only."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.support.dataset_factory import Case, corpus, write_local
from tests.support.zip_factory import zip_files
from yolo_pipeline.aws import clients as aws_clients
from yolo_pipeline.cli.main import main
from yolo_pipeline.dataset.storage.local import LocalStorage
from yolo_pipeline.dataset.validation import validate_dataset, validate_location
from yolo_pipeline.findings import Finding

FOLDER_ONLY = {"nested-upload"}  # a zip may keep its dataset in one top folder


@pytest.mark.parametrize(
    "case", [c for c in corpus() if c.name not in FOLDER_ONLY], ids=lambda c: c.name
)
def test_a_zip_on_s3_gets_the_verdict_of_its_folder(
    aws: None, tmp_path: Path, case: Case, capsys: pytest.CaptureFixture[str]
) -> None:
    s3 = aws_clients.client("s3")  # the client the validator uses
    s3.create_bucket(Bucket="bucket")
    s3.put_object(Bucket="bucket", Key=f"datasets/{case.name}.zip", Body=zip_files(case.files))
    uri = f"s3://bucket/datasets/{case.name}.zip"
    ranges: list[Any] = []
    s3.meta.events.register(
        "before-send.s3.GetObject", lambda request, **_: ranges.append(request.headers["Range"])
    )
    zipped = validate_location(uri)
    folder = validate_dataset(LocalStorage(write_local(tmp_path, case.files)))
    assert zipped.valid is case.valid, zipped.render_text()

    def texts(findings: list[Finding], location: str) -> list[str]:
        return [str(f).replace(location, "<root>") for f in findings]

    assert texts(zipped.errors, uri) == texts(folder.errors, folder.location)
    assert texts(zipped.warnings, uri) == texts(folder.warnings, folder.location)
    assert zipped.stats == folder.stats
    assert all(ranges)  # every GET is ranged
    assert main(["validate", uri, "--json"]) == (0 if case.valid else 1)
    assert json.loads(capsys.readouterr().out)["location"] == uri
