"""``yolo-pipeline models`` and ``yolo-pipeline download`` against moto."""

from __future__ import annotations

import io
import json
import tarfile
from pathlib import Path
from typing import Any

import boto3
import pytest

from tests.support.botocore_model import validate_request
from yolo_pipeline.aws import clients
from yolo_pipeline.cli.download import download_model
from yolo_pipeline.cli.main import main
from yolo_pipeline.cli.models import show_models
from yolo_pipeline.errors import JobProblem, UsageError
from yolo_pipeline.notifier.registry import (
    create_package_request,
    metadata_properties,
    register_model,
)

BUCKET = "bucket"


def register(job: str, dataset: str, figure: float) -> None:
    group = f"yolo-{dataset}"
    request = create_package_request(
        group=group,
        job_name=job,
        model_uri=f"s3://{BUCKET}/models/{job}/output/model.tar.gz",
        image_uri="123456789012.dkr.ecr.us-east-1.amazonaws.com/yolo-training:latest",
        metadata=metadata_properties(
            job_name=job,
            dataset_uri=f"s3://{BUCKET}/datasets/{dataset}/",
            task="detect",
            metrics={"val:mAP50-95": figure, "val:mAP50": figure + 0.2},
            best_epoch=21,
            epochs_run=30,
            trained_at="2026-11-30 10:00 UTC",
        ),
        task="detect",
    )
    validate_request("sagemaker", "CreateModelPackage", request)
    outcome = register_model(
        clients.client("sagemaker"),
        group=group,
        job_name=job,
        request=request,
        dataset_uri=f"s3://{BUCKET}/datasets/{dataset}/",
    )
    assert outcome.package is not None, outcome.error


def test_models_lists_versions_with_metrics_and_approval(
    aws: None, capsys: pytest.CaptureFixture[str]
) -> None:
    register("yolo-pets-1111111111", "pets", 0.601)
    register("yolo-pets-2222222222", "pets", 0.655)
    register("yolo-cars-3333333333", "cars", 0.42)
    out = io.StringIO()
    assert show_models("pets", out=out) == 0
    text = out.getvalue()
    assert "yolo-pets:" in text and "yolo-cars" not in text
    lines = text.splitlines()
    second = next(i for i, line in enumerate(lines) if "yolo-pets-2222222222" in line)
    first = next(i for i, line in enumerate(lines) if "yolo-pets-1111111111" in line)
    assert second < first  # newest first
    assert "PendingManualApproval" in lines[second] and "0.655" in lines[second]
    assert "yolo-pipeline approve DATASET --version N" in text
    assert "* endpoint" not in text  # no endpoint yet
    assert main(["models"]) == 0
    everything = capsys.readouterr().out
    assert "yolo-pets:" in everything and "yolo-cars:" in everything


def test_models_marks_the_version_the_endpoint_serves(aws: None) -> None:
    register("yolo-pets-1111111111", "pets", 0.601)
    register("yolo-pets-2222222222", "pets", 0.655)
    sagemaker = clients.client("sagemaker")
    # What the deployer leaves: endpoint <group>, its config <group>-v<version>.
    sagemaker.create_model(
        ModelName="yolo-pets-v1",
        ExecutionRoleArn="arn:aws:iam::123456789012:role/model",
        PrimaryContainer={"Image": "123456789012.dkr.ecr.us-east-1.amazonaws.com/i:latest"},
    )
    sagemaker.create_endpoint_config(
        EndpointConfigName="yolo-pets-v1",
        ProductionVariants=[
            {
                "VariantName": "AllTraffic",
                "ModelName": "yolo-pets-v1",
                "ServerlessConfig": {"MemorySizeInMB": 3072, "MaxConcurrency": 5},
            }
        ],
    )
    sagemaker.create_endpoint(EndpointName="yolo-pets", EndpointConfigName="yolo-pets-v1")
    out = io.StringIO()
    assert show_models("pets", out=out) == 0
    text = out.getvalue()
    assert "* endpoint yolo-pets serves version 1" in text
    served = next(line for line in text.splitlines() if "yolo-pets-1111111111" in line)
    assert served.split()[0:2] == ["1", "*"]
    out = io.StringIO()
    assert show_models("pets", out=out, as_json=True) == 0
    assert json.loads(out.getvalue())["serving"]["yolo-pets"]["version"] == 1


def test_models_of_an_unknown_dataset(aws: None) -> None:
    out = io.StringIO()
    assert show_models("s3://bucket/datasets/zebras/", out=out) == 0
    assert "No registered models for dataset" in out.getvalue()
    empty = io.StringIO()
    assert show_models(out=empty) == 0
    assert "No model package groups named yolo-*" in empty.getvalue()


def training_job(name: str, archive: bytes) -> None:
    sagemaker = boto3.client("sagemaker")
    sagemaker.create_training_job(
        TrainingJobName=name,
        AlgorithmSpecification={"TrainingImage": "image", "TrainingInputMode": "File"},
        RoleArn="arn:aws:iam::123456789012:role/yolo-training",
        OutputDataConfig={"S3OutputPath": f"s3://{BUCKET}/models/"},
        ResourceConfig={"InstanceType": "ml.g4dn.xlarge", "InstanceCount": 1, "VolumeSizeInGB": 5},
        StoppingCondition={"MaxRuntimeInSeconds": 3600},
    )
    s3 = boto3.client("s3")
    s3.create_bucket(Bucket=BUCKET)
    s3.put_object(Bucket=BUCKET, Key=f"models/{name}/output/model.tar.gz", Body=archive)


def tar_gz(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def test_download_fetches_and_unpacks_the_model(aws: None, tmp_path: Path) -> None:
    training_job("yolo-pets-1111111111", tar_gz({"best.pt": b"w" * 5000, "metrics.json": b"{}"}))
    out = io.StringIO()
    target = tmp_path / "model"
    assert download_model("yolo-pets-1111111111", str(target), progress=False, out=out) == 0
    assert (target / "best.pt").read_bytes() == b"w" * 5000
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model"]  # no .part left behind
    assert "Unpacked 2 file(s)" in out.getvalue()


def test_download_refuses_an_archive_that_escapes_its_folder(aws: None, tmp_path: Path) -> None:
    training_job("yolo-pets-1111111111", tar_gz({"../escaped.txt": b"x", "best.pt": b"w"}))
    out = io.StringIO()
    target = tmp_path / "model"
    with pytest.raises(JobProblem, match="could not be unpacked safely"):
        download_model("yolo-pets-1111111111", str(target), progress=False, out=out)
    assert not (tmp_path / "escaped.txt").exists()


def test_download_never_overwrites(aws: None, tmp_path: Path) -> None:
    (tmp_path / "keep.txt").write_text("mine", encoding="utf-8")
    with pytest.raises(UsageError, match="not empty"):
        download_model("yolo-pets-1111111111", str(tmp_path), progress=False)
    with pytest.raises(UsageError, match="not a training job name"):
        download_model("../etc", str(tmp_path / "x"), progress=False)


def test_download_of_an_unknown_job_is_an_error(aws: None, tmp_path: Path) -> None:
    out: Any = io.StringIO()
    with pytest.raises(JobProblem, match="no training job named 'yolo-nope-1'"):
        download_model("yolo-nope-1", str(tmp_path / "m"), progress=False, out=out)
    assert main(["download", "yolo-nope-1", str(tmp_path / "m"), "--no-progress"]) == 1
